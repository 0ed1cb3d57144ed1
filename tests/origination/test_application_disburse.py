"""application_disburse: one durable transaction with servicing's loan_board; idempotent."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from origination import services
from origination.errors import InvalidTransition, ValidationFailed
from origination.models import Application
from servicing.models import Loan

pytestmark = pytest.mark.django_db


def test_disburse_boards_one_loan_with_the_product_snapshot(accepted, loan_officer):
    application = accepted()
    result = services.application_disburse(
        application=application, acting_user=loan_officer, method="ach", reference="ACH-1"
    )
    assert result.status == Application.Status.DISBURSED
    loan = Loan.objects.get()
    assert result.loan_id == loan.pk
    assert loan.product_code == "PERSONAL"
    assert loan.interest_model == "daily_simple"
    assert loan.late_fee_amount == application.product_version.late_fee_value
    assert loan.principal_amount == application.offer.note_principal
    assert result.events.last().to_status == "disbursed"


def test_disburse_replay_returns_the_same_loan(accepted, loan_officer):
    application = accepted()
    first = services.application_disburse(
        application=application, acting_user=loan_officer, method="wire", reference="W-1"
    )
    again = services.application_disburse(
        application=application, acting_user=loan_officer, method="wire", reference="W-1"
    )
    assert first.loan_id == again.loan_id
    assert Loan.objects.count() == 1


def test_disbursing_before_acceptance_is_409_and_changes_nothing(decided, loan_officer):
    application = decided("9999")
    with pytest.raises(InvalidTransition):
        services.application_disburse(
            application=application, acting_user=loan_officer, method="ach", reference="X"
        )
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert Loan.objects.count() == 0


@pytest.mark.parametrize(("method", "reference"), [("cash", "R1"), ("ach", " ")])
def test_bad_method_or_reference_is_400(accepted, loan_officer, method, reference):
    application = accepted()
    with pytest.raises(ValidationFailed):
        services.application_disburse(
            application=application, acting_user=loan_officer, method=method, reference=reference
        )
    application.refresh_from_db()
    assert application.status == Application.Status.OFFER_ACCEPTED
    assert Loan.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_disbursement_gives_one_loan(accepted, loan_officer):
    # Given an accepted offer
    application = accepted()
    barrier = threading.Barrier(2)
    loans: list[int | None] = []
    errors: list[BaseException] = []

    def disburse() -> None:
        try:
            barrier.wait(timeout=10)
            result = services.application_disburse(
                application=Application.objects.get(pk=application.pk),
                acting_user=loan_officer,
                method="ach",
                reference="RACE-1",
            )
            loans.append(result.loan_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # When two threads disburse at once
    threads = [threading.Thread(target=disburse) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then both get the same loan, and there is one
    assert errors == []
    assert len(loans) == 2
    assert loans[0] == loans[1] is not None
    assert Loan.objects.count() == 1
    assert Application.objects.get(pk=application.pk).status == Application.Status.DISBURSED


def test_an_applicant_served_in_the_branch_gets_a_borrower_at_disbursement(
    decided, loan_officer, admin_user
):
    # Given an applicant a loan officer entered, with no portal login
    from tests.origination.factories import ApplicantFactory

    applicant = ApplicantFactory(last4="9999", borrower=None, acting_user=loan_officer)
    application = decided(applicant=applicant)
    services.offer_accept(  # on the borrower's behalf: a separate, audited permission
        application=application,
        acting_user=admin_user,
        signature_name=f"{applicant.first_name} {applicant.last_name}",
        ip_address="198.51.100.4",
    )

    # When it is disbursed
    result = services.application_disburse(
        application=Application.objects.get(pk=application.pk),
        acting_user=loan_officer,
        method="check",
        reference="CHK-77",
    )

    # Then the loan belongs to a new borrower profile without a login, linked to the applicant
    loan = Loan.objects.get(pk=result.loan_id)
    applicant.refresh_from_db()
    assert loan.borrower_id == applicant.borrower_id
    assert loan.borrower.user is None
    assert loan.borrower.last_name == applicant.last_name
