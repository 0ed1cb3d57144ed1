"""The PostgreSQL accrual (one INSERT ... SELECT with its journal) gives exactly the rows of
the Python accrual (`servicing.accrual.accrue_loans`) on a mixed book."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum

from servicing.accrual import accrue_loans
from servicing.cob.close import close_range
from servicing.cob.steps import StepClock
from servicing.models import InterestAccrual, JournalEntry, JournalLine, Loan
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

THROUGH = date(2028, 3, 31)  # over a year end, a leap February and month ends


class Rollback(Exception):
    pass


def _state(ids):
    accruals = list(
        InterestAccrual.objects.filter(loan_id__in=ids, reversed=False)
        .order_by("loan_id", "date")
        .values_list(
            "loan_id",
            "date",
            "principal_base",
            "amount_exact",
            "cumulative_exact",
            "posted",
            "cumulative_posted",
        )
    )
    loans = list(
        Loan.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list(
            "pk",
            "accrued_interest_exact",
            "accrued_interest_posted",
            "last_accrual_date",
            "interest_balance",
        )
    )
    # Interest receivable per loan; the income side (per loan for the Python accrual, one
    # line per account for the range in close of business's) in total per account.
    lines = list(
        JournalLine.objects.filter(loan_id__in=ids, entry__entry_type="accrual", account="1110")
        .values("loan_id", "account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("loan_id", "account")
    )
    suspense = [a for a in ids if InterestAccrual.objects.filter(loan_id=a, to_suspense=True)]
    entries = JournalEntry.objects.filter(entry_type="accrual", lines__loan_id__in=ids)
    income = dict(
        JournalLine.objects.filter(entry__in=entries, account__in=["4100", "2900"])
        .values("account")
        .annotate(c=Sum("credit"))
        .values_list("account", "c")
    )
    return accruals, loans, lines, suspense, income


def test_sql_accrual_equals_python_accrual(borrower):
    business_date_set(business_date=date(2027, 12, 1), acting_user=None)
    specs = [
        {"day_count": "ACT/365F"},
        {"day_count": "ACT/360", "annual_rate": "0.1999"},
        {"day_count": "ACT/365.25", "principal": "987.65", "annual_rate": "0.0725"},
        {"day_count": "ACT/ACT-ISDA", "principal": "25000.00", "annual_rate": "0.0333"},
        {"day_count": "30/360", "principal": "5000.00", "annual_rate": "0.089"},
        {"day_count": "30/360", "interest_model": "scheduled", "annual_rate": "0.155"},
        {"day_count": "ACT/365F", "interest_model": "scheduled", "principal": "777.77"},
    ]
    ids = [
        board_loan(
            borrower=borrower,
            application_ref=f"EQ-{n}",
            disbursed_on=date(2027, 12, 1),
            **spec,
        ).pk
        for n, spec in enumerate(specs)
    ]
    Loan.objects.filter(pk=ids[1]).update(non_accrual=True)  # into suspense, same amounts

    # Given the Python accrual's result (rolled back)
    try:
        with transaction.atomic():
            accrue_loans(
                list(Loan.objects.filter(pk__in=ids).order_by("pk")),
                through=THROUGH,
                business_date=THROUGH,
            )
            python = _state(ids)
            raise Rollback
    except Rollback:
        pass
    assert len(python[0]) == len(ids) * 121

    # When the SQL path closes the same loans through the same day
    business_date_set(business_date=THROUGH, acting_user=None)
    with transaction.atomic():
        close_range(lo=min(ids), hi=max(ids), business_date=THROUGH, clock=StepClock())

    # Then every accrual row, loan field and journal total is identical
    sql = _state(ids)
    assert sql[0] == python[0]
    assert sql[1] == python[1]
    assert sql[2] == python[2]
    assert sql[3] == python[3] == [ids[1]]
    assert sql[4] == python[4]

    # And so is the next night, a single day (the SQL's path without running sums)
    after = THROUGH + timedelta(days=1)
    try:
        with transaction.atomic():
            accrue_loans(
                list(Loan.objects.filter(pk__in=ids).order_by("pk")),
                through=after,
                business_date=after,
            )
            python = _state(ids)
            raise Rollback
    except Rollback:
        pass
    business_date_set(business_date=after, acting_user=None)
    with transaction.atomic():
        close_range(lo=min(ids), hi=max(ids), business_date=after, clock=StepClock())
    assert _state(ids) == python


def test_a_days_accrual_is_one_shared_entry_and_replay_reverses_one_loans_lines(borrower):
    from decimal import Decimal

    from servicing.ledger import ledger_problems
    from servicing.models import JournalEntry
    from servicing.services import payment_post

    start, through = date(2027, 12, 1), date(2027, 12, 20)
    business_date_set(business_date=start, acting_user=None)
    loans = [
        board_loan(borrower=borrower, application_ref=f"SH-{n}", disbursed_on=start)
        for n in range(3)
    ]
    ids = [loan.pk for loan in loans]
    business_date_set(business_date=through, acting_user=None)
    with transaction.atomic():
        close_range(lo=min(ids), hi=max(ids), business_date=through, clock=StepClock())

    # One entry a day for the three loans, without a loan of its own: a receivable line per
    # loan, the income once
    entries = JournalEntry.objects.filter(entry_type="accrual", lines__loan_id__in=ids).distinct()
    assert entries.count() == 19
    assert set(entries.values_list("loan_id", flat=True)) == {None}
    day = entries.get(effective_date=date(2027, 12, 15))
    lines = list(day.lines.values_list("loan_id", "account", "debit", "credit"))
    assert sorted((loan, account) for loan, account, _, _ in lines if loan) == sorted(
        (pk, "1110") for pk in ids
    )
    (income,) = [line for line in lines if line[0] is None]
    assert income[1] == "4100"
    assert income[3] == sum(line[2] for line in lines if line[0])
    others_before = _state(ids[1:])

    # A backdated payment on one loan replays that loan alone
    payment_post(
        loan=loans[0],
        amount=Decimal("100.00"),
        effective_date=date(2027, 12, 10),
        method="ach",
        reference="backdated",
        acting_user=None,
    )
    reversal = JournalEntry.objects.get(entry_type="reversal", memo__contains=f"(JE-{day.pk},")
    assert reversal.loan_id == ids[0]  # a partial reversal belongs to the loan
    assert reversal.reverses_id is None  # the shared original is not wholly reversed
    assert set(reversal.lines.values_list("loan_id", flat=True)) == {ids[0]}
    share = InterestAccrual.objects.get(loan_id=ids[0], date=day.effective_date, reversed=True)
    assert sorted(reversal.lines.values_list("account", "debit", "credit")) == [
        ("1110", Decimal("0.00"), share.posted),
        ("4100", share.posted, Decimal("0.00")),
    ]
    assert JournalEntry.objects.filter(reverses_id=day.pk).count() == 0
    assert _state(ids[1:]) == others_before
    assert (
        InterestAccrual.objects.filter(loan_id=ids[0], reversed=False, date__lte=through).count()
        == (through - start).days
    )
    assert ledger_problems() == []
