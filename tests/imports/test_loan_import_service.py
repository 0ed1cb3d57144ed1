"""Portfolio import: each bad input named by row and column with nothing imported; a good
file boarded with opening entries that reconcile; valid-only; close of business after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from origination.models import LoanImport
from origination.services.loan_import import loan_import_create, loan_import_run
from servicing.cob.runner import cob_close_through
from servicing.ledger import ledger_problems
from servicing.models import Account, Fee, Installment, JournalLine, Loan

from .conftest import loan_row, to_csv

pytestmark = pytest.mark.django_db


def run(admin_user, content: bytes, payments: bytes | None = None, **options) -> LoanImport:
    job = loan_import_create(
        content=content,
        payments_content=payments,
        acting_user=admin_user,
        enqueue=False,
        **options,
    )
    return loan_import_run(import_id=job.pk)


def cells(job: LoanImport) -> list[tuple[str, int, str | None, str]]:
    return [(e["file"], e["row"], e["column"], e["code"]) for e in job.errors]


def test_a_good_file_boards_each_loan_with_balances_schedule_and_ledger(admin_user, product, today):
    # Given two loans five installments in, one with fees outstanding
    rows = [loan_row(1), loan_row(2, fees_outstanding="15.00")]

    # When they are imported
    job = run(admin_user, to_csv(rows))

    # Then both are boarded at the stated balances
    assert job.status == LoanImport.Status.SUCCEEDED, job.errors
    assert (job.total_rows, job.imported_rows, job.error_rows) == (2, 2, 0)
    loan = Loan.objects.get(external_id="OLD-2")
    assert loan.principal_balance == Decimal("717.06")
    assert loan.interest_balance == Decimal("3.45")
    assert loan.fees_balance == Decimal("15.00")
    assert loan.last_accrual_date == today
    assert loan.external_id_owner == admin_user
    assert loan.loan_number == f"LN-{loan.pk:06d}"
    # the first five installments are paid, the rest owe exactly the outstanding principal
    installments = list(Installment.objects.filter(loan=loan).order_by("number"))
    assert [i.status for i in installments[:6]] == ["paid"] * 5 + ["upcoming"]
    unpaid = sum((i.principal_due for i in installments if i.status != "paid"), Decimal(0))
    assert unpaid == loan.principal_balance
    assert loan.oldest_unpaid_due_date == date(2026, 7, 1)
    # the fee is an open fee the waterfall can collect, and the ledger reconciles
    assert Fee.objects.get(loan=loan).outstanding == Decimal("15.00")
    migration = JournalLine.objects.filter(account=Account.MIGRATION, loan=loan)
    assert sum((line.credit for line in migration), Decimal(0)) == Decimal("735.51")
    assert ledger_problems() == []


def test_prepaid_principal_is_a_true_up_on_the_last_paid_installment(admin_user, product, today):
    # Given a borrower who paid 100.00 more principal than the schedule
    rows = [loan_row(1, principal_outstanding="617.06")]

    job = run(admin_user, to_csv(rows))

    assert job.status == "succeeded", job.errors
    loan = Loan.objects.get(external_id="OLD-1")
    fifth = Installment.objects.get(loan=loan, number=5)
    assert fifth.principal_true_up == Decimal("100.00")
    assert fifth.principal_paid == fifth.principal_due
    unpaid = Installment.objects.filter(loan=loan, status="upcoming")
    assert sum((i.principal_due for i in unpaid), Decimal(0)) == Decimal("617.06")


def test_imported_loans_run_through_close_of_business(admin_user, product, today):
    # Given an imported loan
    job = run(
        admin_user,
        to_csv(
            [
                loan_row(1),
                loan_row(2, paid=0, principal_outstanding="1200.00", as_of_date="2026-01-20"),
            ]
        ),
    )
    assert job.status == "succeeded", job.errors

    # When close of business runs for three days
    results = cob_close_through(through=date(2026, 6, 17))

    # Then every day closed, interest accrued from the balances' date, the ledger reconciles
    assert [outcome for _day, outcome, _run in results] == ["closed"] * 3
    loan = Loan.objects.get(external_id="OLD-1")
    assert loan.last_accrual_date == date(2026, 6, 17)
    assert loan.interest_balance > Decimal("3.45")
    late = Loan.objects.get(external_id="OLD-2")
    assert late.dpd > 100  # never paid: past due since 2026-02-01
    assert ledger_problems() == []


@pytest.mark.parametrize(
    ("overrides", "column", "code"),
    [
        ({"product_code": "NOPE"}, "product_code", "unknown_product"),
        ({"principal_outstanding": "1300.00"}, "principal_outstanding", "exceeds_principal"),
        ({"installments_paid": "0"}, "principal_outstanding", "balance_mismatch"),
        ({"interest_accrued": "-1.00"}, "interest_accrued", "negative"),
        ({"as_of_date": "2025-12-01"}, "as_of_date", "before_disbursement"),
        ({"as_of_date": "2026-07-01"}, "as_of_date", "after_business_date"),
        ({"disbursement_date": "2026-13-01"}, "disbursement_date", "invalid_date"),
        ({"principal": "12x0"}, "principal", "invalid_number"),
        ({"principal": "1200.001"}, "principal", "invalid_number"),
        ({"n_periods": "twelve"}, "n_periods", "invalid_integer"),
        ({"installments_paid": "6"}, "installments_paid", "not_yet_due"),
        ({"installments_paid": "12"}, "installments_paid", "out_of_range"),
        ({"borrower_email": "not-an-email"}, "borrower_email", "invalid_email"),
        ({"borrower_first_name": ""}, "borrower_first_name", "required"),
        ({"frequency": "weekly"}, "frequency", "not_allowed"),
        ({"day_count": "30/360"}, "day_count", "not_allowed"),
        ({"external_id": "has space"}, "external_id", "invalid_external_id"),
    ],
)
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_imported(
    admin_user, product, today, overrides, column, code
):
    # Given a file whose third row is bad
    rows = [loan_row(1), loan_row(2, **overrides), loan_row(3)]

    job = run(admin_user, to_csv(rows))

    assert job.status == LoanImport.Status.FAILED
    assert cells(job) == [("loans", 3, column, code)]
    assert Loan.objects.count() == 0


def test_duplicate_external_ids_within_the_file_and_against_loans(admin_user, product, today):
    assert run(admin_user, to_csv([loan_row(1)])).status == "succeeded"

    job = run(admin_user, to_csv([loan_row(1), loan_row(2), loan_row(2)]))

    assert cells(job) == [
        ("loans", 2, "external_id", "exists"),
        ("loans", 4, "external_id", "duplicate"),
    ]
    assert Loan.objects.count() == 1


def test_malformed_csv_is_reported_with_its_row(admin_user, product, today):
    good = to_csv([loan_row(1)])
    bad_quote = good + b'"OLD-9,"unterminated\n'
    job = run(admin_user, bad_quote)
    assert job.status == "failed"
    assert [c[3] for c in cells(job)] == ["malformed_csv"]
    assert Loan.objects.count() == 0


def test_missing_and_extra_header_columns_and_wrong_field_counts(admin_user, product, today):
    row = loan_row(1)
    del row["principal"]
    job = run(admin_user, to_csv([{**row, "colour": "red"}], columns=[*row, "colour"]))
    assert cells(job) == [
        ("loans", 1, "colour", "unknown_column"),
        ("loans", 1, "principal", "missing_column"),
    ]
    short = to_csv([loan_row(1)]) + b"OLD-2,B-2\n"
    assert cells(run(admin_user, short)) == [("loans", 3, None, "wrong_field_count")]
    assert Loan.objects.count() == 0


def test_encodings_bom_accepted_latin1_refused(admin_user, product, today):
    bom = b"\xef\xbb\xbf" + to_csv([loan_row(1, borrower_last_name="Göde")])
    assert run(admin_user, bom).status == "succeeded"
    latin1 = (
        to_csv([loan_row(2), loan_row(3, borrower_last_name="Göde")]).decode().encode("latin-1")
    )
    job = run(admin_user, latin1)
    assert cells(job) == [("loans", 3, None, "encoding")]
    assert Loan.objects.count() == 1


def test_valid_only_imports_the_good_rows_and_reports_the_others(admin_user, product, today):
    rows = [loan_row(1), loan_row(2, product_code="NOPE"), loan_row(3)]

    job = run(admin_user, to_csv(rows), valid_only=True)

    assert job.status == "succeeded"
    assert (job.imported_rows, job.error_rows) == (2, 1)
    assert cells(job) == [("loans", 3, "product_code", "unknown_product")]
    assert set(Loan.objects.values_list("external_id", flat=True)) == {"OLD-1", "OLD-3"}


def test_dry_run_validates_and_writes_no_loan(admin_user, product, today):
    job = run(admin_user, to_csv([loan_row(1)]), dry_run=True)
    assert job.status == "succeeded"
    assert job.imported_rows == 0
    assert Loan.objects.count() == 0


PAYMENTS_HEADER = b"loan_external_id,paid_on,amount,principal,interest,fees\n"


def _history(n: int = 1) -> bytes:
    # the five scheduled payments of loan_row(n)
    lines = [
        f"OLD-{n},2026-0{m + 1}-01,106.59,{p},{i},0.00\n"
        for m, p, i in [
            (1, "94.36", "12.23"),
            (2, "96.41", "10.18"),
            (3, "96.30", "10.29"),
            (4, "97.59", "9.00"),
            (5, "98.28", "8.31"),
        ]
    ]
    return PAYMENTS_HEADER + "".join(lines).encode()


def test_a_payment_history_that_matches_is_kept(admin_user, product, today):
    job = run(admin_user, to_csv([loan_row(1)]), payments=_history())
    assert job.status == "succeeded", job.errors
    event = Loan.objects.get(external_id="OLD-1").events.get(kind="boarded")
    assert len(event.data["payments"]) == 5


def test_payment_history_errors_by_row(admin_user, product, today):
    history = _history().replace(b"2026-03-01,106.59", b"2026-03-01,106.60")
    history += b"OLD-404,2026-03-01,1.00,1.00,0.00,0.00\n"
    job = run(admin_user, to_csv([loan_row(1)]), payments=history)
    assert cells(job) == [
        ("loans", 2, "payments", "principal_mismatch"),
        ("payments", 3, "amount", "split_mismatch"),
        ("payments", 7, "loan_external_id", "unknown_loan"),
    ]
    assert Loan.objects.count() == 0


def test_the_documented_example_files_import(admin_user, product, today):
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    job = run(
        admin_user,
        (fixtures / "loan_import_example.csv").read_bytes(),
        payments=(fixtures / "loan_import_example_payments.csv").read_bytes(),
    )
    assert job.status == "succeeded", job.errors
    assert job.imported_rows == 3
    # rows sharing a borrower_ref share the borrower
    assert Loan.objects.get(external_id="OLD-1").borrower_id == (
        Loan.objects.get(external_id="OLD-2").borrower_id
    )


def test_the_bulk_copy_path_of_the_ledger_writer_reconciles(
    admin_user, product, today, monkeypatch
):
    # Given the writer's COPY threshold lowered so this small import takes the bulk path
    monkeypatch.setattr("servicing.ledger.COPY_LINES", 2)

    job = run(admin_user, to_csv([loan_row(n, fees_outstanding="5.00") for n in range(1, 4)]))

    assert job.status == "succeeded", job.errors
    assert JournalLine.objects.filter(account=Account.MIGRATION).count() == 6
    assert ledger_problems() == []
