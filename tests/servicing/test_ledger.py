import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from servicing.ledger import (
    UNCHECKED_REFERENCES,
    Line,
    UnbalancedEntry,
    journal_checks_now,
    journal_post,
    ledger_problems,
)
from servicing.models import (
    Account,
    DelinquencyHistory,
    ImmutableLedgerError,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Notification,
    Statement,
)
from servicing.services import payment_post


def test_unbalanced_entries_are_refused_in_code(loan):
    with pytest.raises(UnbalancedEntry):
        journal_post(
            entry_type="fee",
            effective_date=date(2026, 1, 1),
            business_date=date(2026, 1, 1),
            loan=loan,
            lines=[
                Line(Account.FEES, debit=Decimal("1.00")),
                Line(Account.FEE_INCOME, credit=Decimal("0.99")),
            ],
        )
    with pytest.raises(UnbalancedEntry):
        journal_post(
            entry_type="fee",
            effective_date=date(2026, 1, 1),
            business_date=date(2026, 1, 1),
            loan=loan,
            lines=[
                Line(Account.FEES, debit=Decimal("1.001")),
                Line(Account.FEE_INCOME, credit=Decimal("1.001")),
            ],
        )


def test_journal_rows_are_immutable_in_python(loan):
    entry = JournalEntry.objects.first()
    entry.memo = "changed"
    with pytest.raises(ImmutableLedgerError):
        entry.save()
    with pytest.raises(ImmutableLedgerError):
        entry.delete()
    with pytest.raises(ImmutableLedgerError):
        JournalLine.objects.filter(entry=entry).update(debit=Decimal("1.00"))
    with pytest.raises(ImmutableLedgerError):
        JournalLine.objects.all().delete()


def test_line_with_both_sides_is_refused_by_the_database(loan):
    entry = JournalEntry.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalLine.objects.bulk_create(
            [
                JournalLine(
                    entry=entry, account=Account.CASH, debit=Decimal("1"), credit=Decimal("1")
                )
            ]
        )


def test_ledger_check_command(loan, business_date):
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert "OK" in out.getvalue()

    Loan.objects.filter(pk=loan.pk).update(principal_balance=Decimal("1.00"))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ledger_check", stderr=err)
    assert exit_.value.code == 1
    assert f"{loan.loan_number} principal_balance: cached 1.00, ledger 1200.00" in err.getvalue()
    Loan.objects.filter(pk=loan.pk).update(principal_balance=Decimal("1200.00"))
    assert ledger_problems() == []


def test_gl_export_csv(staff_api_client, admin_user, loan, business_date):
    business_date(date(2026, 2, 1))
    payment_post(
        loan=loan,
        amount=Decimal("50.00"),
        effective_date=date(2026, 2, 1),
        method="ach",
        acting_user=None,
    )
    client = staff_api_client(admin_user)

    response = client.get("/api/v1/gl/export/?from=2026-01-01&to=2026-02-01")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["entry_type"] for r in rows} >= {"disbursement", "accrual", "payment"}
    assert sum(Decimal(r["debit"]) for r in rows) == sum(Decimal(r["credit"]) for r in rows)
    assert client.get("/api/v1/gl/export/?from=2026-02-01&to=2026-01-01").status_code == 400
    assert client.get("/api/v1/gl/export/?from=x").status_code == 400


def test_gl_export_is_staff_only(api_client, borrower, loan):
    api_client.force_authenticate(borrower.user)
    assert api_client.get("/api/v1/gl/export/?from=2026-01-01&to=2026-02-01").status_code == 403


@pytest.mark.postgres
def test_database_refuses_unbalanced_entry_at_commit(loan):
    def post_unbalanced_entry():
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                business_date=date(2026, 1, 1),
                effective_date=date(2026, 1, 1),
                entry_type="fee",
                loan=loan,
            )
            JournalLine.objects.bulk_create(
                [
                    JournalLine(
                        entry=entry, loan=loan, account=Account.FEES, debit=Decimal("2.00")
                    ),
                    JournalLine(
                        entry=entry, loan=loan, account=Account.FEE_INCOME, credit=Decimal("1.00")
                    ),
                ]
            )
            _check_constraints_now()

    with pytest.raises(IntegrityError, match="does not balance"):
        post_unbalanced_entry()


@pytest.mark.postgres
@pytest.mark.parametrize("lines", [2, 40])  # listed in a setting, or spilled to a table
def test_database_refuses_lines_of_an_entry_that_does_not_exist(loan, lines):
    # Lines keep no per-row foreign key to their entry; the commit-time check stands in.
    missing = (JournalEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 99
    half = [
        JournalLine(entry_id=missing, loan=loan, account=Account.FEES, debit=Decimal("1.00")),
        JournalLine(
            entry_id=missing, loan=loan, account=Account.FEE_INCOME, credit=Decimal("1.00")
        ),
    ]

    def post_orphan_lines():
        with transaction.atomic():
            JournalLine.objects.bulk_create(half * (lines // 2))
            _check_constraints_now()

    with pytest.raises(IntegrityError, match="does not exist"):
        post_orphan_lines()
    assert not JournalLine.objects.filter(entry_id=missing).exists()


@pytest.mark.postgres
def test_checking_the_ledger_early_still_checks_what_the_transaction_writes_after(loan):
    """Close of business runs the commit-time check before its COMMIT to time it: the rows
    written before are checked there, and the check stays deferred for what comes after."""

    def entry_with_lines(debit: str, credit: str) -> JournalEntry:
        # the entry and each line in statements of their own, as a writer may send them
        entry = JournalEntry.objects.create(
            business_date=date(2026, 1, 1), effective_date=date(2026, 1, 1), entry_type="fee"
        )
        JournalLine.objects.create(
            entry=entry, loan=loan, account=Account.FEES, debit=Decimal(debit)
        )
        JournalLine.objects.create(
            entry=entry, loan=loan, account=Account.FEE_INCOME, credit=Decimal(credit)
        )
        return entry

    with transaction.atomic():
        # given a transaction that wrote a balanced entry and ran the check early
        entry_with_lines("3.00", "3.00")
        assert journal_checks_now()
        # when it writes another entry one line at a time (an immediate check would refuse
        # the first line alone), nothing is refused before the check runs again
        entry_with_lines("2.00", "2.00")
        _check_constraints_now()
        transaction.set_rollback(True)

    # and an unbalanced entry written after the early check is still refused
    def unbalanced_after_an_early_check():
        with transaction.atomic():
            assert journal_checks_now()
            entry_with_lines("2.00", "1.00")
            _check_constraints_now()

    with pytest.raises(IntegrityError, match="does not balance"):
        unbalanced_after_an_early_check()


@pytest.mark.postgres
def test_database_refuses_update_and_delete_of_journal_rows(loan):
    from django.db import DatabaseError

    for sql in (
        "UPDATE servicing_journalline SET debit = debit + 1",
        "DELETE FROM servicing_journalline",
        "UPDATE servicing_journalentry SET memo = 'x'",
        "DELETE FROM servicing_journalentry",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def _check_constraints_now():
    """Run the deferred (commit-time) checks inside the test's transaction, as close of
    business does before its COMMIT."""
    assert journal_checks_now()


def test_gl_export_neutralises_formulas(staff_api_client, admin_user, loan, business_date):
    # given a payment whose reference a spreadsheet would run as a formula
    business_date(date(2026, 2, 1))
    payment_post(
        loan=loan,
        amount=Decimal("50.00"),
        effective_date=date(2026, 2, 1),
        method="check",
        reference="=HYPERLINK(1)",
        acting_user=None,
    )

    # when the GL is exported
    response = staff_api_client(admin_user).get("/api/v1/gl/export/?from=2026-01-01&to=2026-02-01")

    # then the cell is text, and amounts stay numbers
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    payment_rows = [r for r in rows if r["entry_type"] == "payment"]
    assert {r["reference"] for r in payment_rows} == {"'=HYPERLINK(1)"}
    assert sum(Decimal(r["debit"]) for r in payment_rows) == Decimal("50.00")


def _dangling_rows(label: str, loan: Loan, missing: int) -> int:
    """Rows of the kind `label` names (`UNCHECKED_REFERENCES`) pointing at id `missing`;
    returns how many (an entry's two lines, or one row)."""
    day = date(2026, 1, 1)
    if label == "journal lines name a loan":
        entry = JournalEntry.objects.create(business_date=day, effective_date=day, entry_type="fee")
        JournalLine.objects.create(entry=entry, loan_id=missing, account="1120", debit=1)
        JournalLine.objects.create(entry=entry, loan_id=missing, account="4200", credit=1)
        return 2
    if label == "accrual rows name a loan":
        InterestAccrual.objects.create(
            loan_id=missing, date=day, principal_base=0, amount_exact=0, cumulative_exact=0
        )
    elif label == "loan events name a loan":
        LoanEvent.objects.create(loan_id=missing, kind="flag", business_date=day)
    elif label == "delinquency history rows name a loan":
        DelinquencyHistory.objects.create(
            loan_id=missing, business_date=day, from_bucket="current", to_bucket="1-29"
        )
    elif label == "statements name a loan":
        Statement.objects.create(loan_id=missing, period_start=day, period_end=day)
    else:
        loan_id, installment_id = (
            (missing, None) if label == "notifications name a loan" else (loan.pk, missing)
        )
        Notification.objects.create(
            loan_id=loan_id,
            installment_id=installment_id,
            kind="due_soon",
            channel="email",
            business_date=day,
            recipient="borrower@example.com",
        )
    return 1


@pytest.mark.parametrize("label", [label for *_, label in UNCHECKED_REFERENCES])
def test_ledger_check_finds_a_nightly_row_naming_what_does_not_exist(loan, label):
    # The rows close of business writes in bulk keep no database foreign key; the nightly
    # ledger check stands in for it.
    assert not [p for p in ledger_problems() if "does not exist" in p]
    with transaction.atomic():
        written = _dangling_rows(label, loan, missing=10**9)
        assert f"{written} {label} that does not exist" in ledger_problems()
        transaction.set_rollback(True)  # (the book is checked again after each test)
