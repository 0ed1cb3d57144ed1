"""Dates of birth and routing numbers are stored encrypted like SSNs and account numbers
(issue 10, point 10): the database row holds a Fernet token only, read back through the
model's accessor; `rotate_field_keys` re-encrypts them; the data migration encrypts the rows
written before it and drops the clear columns."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lendcore.core import crypto
from origination.models import Applicant
from servicing.autopay import autopay_enrol
from servicing.models import AutopayEnrolment, RailTransfer
from servicing.rail_payments import payment_request_create
from servicing.services import business_date_set
from tests.core.test_crypto import key_file  # noqa: F401  (fixture)
from tests.origination.factories import ApplicantFactory
from tests.servicing.factories import LoanFactory

BORN = date(1984, 7, 19)
ROUTING = "011000015"


def _raw_row(table: str, pk: int) -> dict[str, object]:
    """The row as the database holds it (no model, no accessor)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def _clear_text_in(row: dict[str, object], *needles: str) -> list[str]:
    return [f"{k}={v!r}" for k, v in row.items() for n in needles if n in str(v)]


@pytest.fixture
def loan(db, borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    return LoanFactory(borrower=borrower)


@pytest.mark.django_db
def test_the_applicant_row_holds_no_clear_date_of_birth():
    # Given an applicant born 19 July 1984
    applicant = ApplicantFactory(date_of_birth=BORN)

    # Then the database row holds neither the date nor any column for it in clear
    row = _raw_row("origination_applicant", applicant.pk)
    assert "date_of_birth" not in row
    assert not _clear_text_in(row, "1984-07-19", "1984", "19840719")
    assert crypto.decrypt(str(row["date_of_birth_encrypted"])) == "1984-07-19"
    # and the accessor reads it back; the masked form keeps the year only
    fresh = Applicant.objects.get(pk=applicant.pk)
    assert fresh.date_of_birth == BORN
    assert fresh.date_of_birth_masked == "••/••/1984"


@pytest.mark.django_db
def test_reading_the_date_of_birth_twice_decrypts_it_once(monkeypatch):
    applicant = Applicant.objects.get(pk=ApplicantFactory(date_of_birth=BORN).pk)
    calls = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: calls.append(token) or real(token))
    assert (applicant.date_of_birth, applicant.date_of_birth_masked) == (BORN, "••/••/1984")
    assert len(calls) == 1
    # a new value is a new token: the accessor never answers the old date
    applicant.date_of_birth = date(1990, 1, 2)
    assert applicant.date_of_birth == date(1990, 1, 2)
    assert "1990" not in applicant.date_of_birth_encrypted


def test_the_rail_rows_hold_no_clear_routing_number(loan, borrower):
    # Given an autopay enrolment and a one-time ACH payment from the same bank
    enrolment = autopay_enrol(loan=loan, account_number="000987654321", routing_number=ROUTING)
    transfer = payment_request_create(
        loan=loan,
        amount=Decimal("50.00"),
        method="ach",
        account_number="000987654321",
        routing_number=ROUTING,
        acting_user=borrower.user,
    )

    # Then neither row holds the routing (nor the account) number in clear
    for table, pk in (
        ("servicing_autopayenrolment", enrolment.pk),
        ("servicing_railtransfer", transfer.pk),
    ):
        row = _raw_row(table, pk)
        assert "routing_number" not in row
        assert not _clear_text_in(row, ROUTING, "987654321"), table
        assert crypto.decrypt(str(row["routing_number_encrypted"])) == ROUTING
    # and the rail code reads them back through the accessor; pages get the masked form
    assert AutopayEnrolment.objects.get(pk=enrolment.pk).routing_number == ROUTING
    fresh = RailTransfer.objects.get(pk=transfer.pk)
    assert (fresh.routing_number, fresh.routing_number_masked) == (ROUTING, "•••••0015")


def test_a_debit_card_transfer_has_no_routing_number(loan, borrower):
    transfer = payment_request_create(
        loan=loan,
        amount=Decimal("50.00"),
        method="debit_card",
        account_number="4111111111111111",
        acting_user=borrower.user,
    )
    fresh = RailTransfer.objects.get(pk=transfer.pk)
    assert (fresh.routing_number_encrypted, fresh.routing_number) == ("", "")
    assert fresh.routing_number_masked == ""


def test_rotation_re_encrypts_dates_of_birth_and_routing_numbers(key_file, loan, borrower):  # noqa: F811
    # Given a date of birth and two routing numbers under the current key
    applicant = ApplicantFactory(date_of_birth=BORN)
    enrolment = autopay_enrol(loan=loan, account_number="000987654321", routing_number=ROUTING)
    transfer = payment_request_create(
        loan=loan,
        amount=Decimal("50.00"),
        method="ach",
        account_number="000987654321",
        routing_number=ROUTING,
        acting_user=borrower.user,
    )

    # When the keys are rotated and the old one retired
    call_command("rotate_field_keys", "--new-key", "--retire-old", stdout=io.StringIO())

    # Then only the new key reads them
    (new_key,) = key_file.read_text().split()
    only_new = Fernet(new_key.encode())
    applicant.refresh_from_db()
    assert only_new.decrypt(applicant.date_of_birth_encrypted.encode()) == b"1984-07-19"
    for row in (
        AutopayEnrolment.objects.get(pk=enrolment.pk),
        RailTransfer.objects.get(pk=transfer.pk),
    ):
        assert only_new.decrypt(row.routing_number_encrypted.encode()) == ROUTING.encode()
    found = {f"{f.model_label}.{f.field_name}" for f in crypto.encrypted_fields()}
    assert {
        "origination.Applicant.date_of_birth_encrypted",
        "servicing.AutopayEnrolment.routing_number_encrypted",
        "servicing.RailTransfer.routing_number_encrypted",
    } <= found


# ------------------------------------------------------------------------- the data migration

ORIGINATION = [("origination", "0004_borrower_invitations")]
SERVICING = [("servicing", "0012_cob_run_event")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migrations_encrypt_existing_rows_and_drop_the_clear_columns(borrower):
    # Given rows written before the migrations, with the dates and routing numbers in clear
    # (the loan is boarded first, by today's models: the enrolment below needs one)
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    loan_id = LoanFactory(borrower=borrower).pk
    old = _migrate(ORIGINATION + SERVICING)
    try:
        applicant = old.get_model("origination", "Applicant").objects.create(
            first_name="Old",
            last_name="Row",
            date_of_birth=BORN,
            ssn_encrypted=crypto.encrypt("318629999"),
            ssn_last4="9999",
            email="old@example.com",
            address_line1="1 Elm Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
            monthly_income=Decimal("8000.00"),
        )
        enrolment = old.get_model("servicing", "AutopayEnrolment").objects.create(
            loan_id=loan_id,
            account_encrypted=crypto.encrypt("000987654321"),
            routing_number=ROUTING,
            account_last4="4321",
        )
        assert ROUTING in str(_raw_row("servicing_autopayenrolment", enrolment.pk))
    finally:
        # When the migrations run
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # Then the clear columns are gone and the values read back through the accessors
    applicant_row = _raw_row("origination_applicant", applicant.pk)
    assert "date_of_birth" not in applicant_row
    assert not _clear_text_in(applicant_row, "1984-07-19")
    assert Applicant.objects.get(pk=applicant.pk).date_of_birth == BORN
    enrolment_row = _raw_row("servicing_autopayenrolment", enrolment.pk)
    assert "routing_number" not in enrolment_row
    assert not _clear_text_in(enrolment_row, ROUTING)
    assert AutopayEnrolment.objects.get(pk=enrolment.pk).routing_number == ROUTING
