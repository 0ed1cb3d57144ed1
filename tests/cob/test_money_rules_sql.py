"""Close of business's set-based statements write exactly what the portable Python path of the
same step writes (servicing.calculations applied row by row), on books built for each rule:
installment status (one that bills nothing is paid on its due date), the final installment's
true-up past maturity (on the loan's last installment still billing principal), back to
accrual with the suspended interest released, late fees without pyramiding and once per due
date across a modification. PostgreSQL: on SQLite both names run the portable path."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from servicing.cob import steps
from servicing.cob.close import close_range
from servicing.cob.steps import Scope, StepClock
from servicing.fees import late_fees_charge
from servicing.ledger import ledger_problems
from servicing.models import (
    Fee,
    Installment,
    JournalLine,
    Loan,
    LoanEvent,
)
from servicing.services import business_date_set, loan_modify, payment_post
from tests.servicing.factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ONE_DAY = timedelta(days=1)


class Rollback(Exception):
    pass


def _close(ids, through):
    with transaction.atomic():
        close_range(lo=ids[0], hi=ids[-1], business_date=through, clock=StepClock())


def _pay(loan, amount, on):
    payment_post(
        loan=Loan.objects.get(pk=loan.pk),
        amount=Decimal(amount),
        effective_date=on,
        method="ach",
        acting_user=None,
        allow_credit=True,
    )


def _state(ids):
    installments = list(
        Installment.objects.filter(loan_id__in=ids)
        .order_by("id")
        .values_list("id", "status", "interest_due", "interest_true_up", "principal_due")
    )
    loans = list(
        Loan.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "non_accrual", "fees_balance", "dpd", "delinquency_bucket")
    )
    fees = sorted(
        Fee.objects.filter(loan_id__in=ids).values_list(
            "loan_id", "kind", "amount", "assessed_on", "installment_id", "reason"
        )
    )
    lines = sorted(
        JournalLine.objects.filter(loan_id__in=ids).values_list(
            "loan_id", "account", "debit", "credit", "entry__entry_type", "entry__effective_date"
        )
    )
    events = sorted(
        LoanEvent.objects.filter(loan_id__in=ids).values_list("loan_id", "kind", "reason")
    )
    return installments, loans, fees, lines, events


def _both_ways(ids, day, python_step, sql_step, *, before=None):
    """Run the step both ways on the same book (the Python one rolled back); same rows."""
    scope = Scope(lo=ids[0], hi=ids[-1], day=day, business_date=day)
    try:
        with transaction.atomic():
            if before:
                before(scope)
            python_count = python_step(scope)
            portable = _state(ids)
            raise Rollback
    except Rollback:
        pass
    with transaction.atomic():
        if before:
            before(scope)
        sql_count = sql_step(scope)
    assert _state(ids) == portable
    assert sql_count == python_count
    return sql_count


def _accrued(scope):
    """The day's accrual, by the portable path: it leaves the loans' balances as both paths
    of the next step read them (the SQL accrual leaves its results for the closing UPDATE)."""
    steps.accrue_orm(scope)


def test_statuses_and_the_final_true_up_past_maturity(borrower):
    # Given loans at every status on the day, two of them past maturity still owing
    start = date(2026, 1, 1)
    business_date_set(business_date=start, acting_user=None)
    loans = [
        board_loan(borrower=borrower, application_ref="S-daily", n_periods=3),
        board_loan(
            borrower=borrower, application_ref="S-sched", n_periods=3, interest_model="scheduled"
        ),
        board_loan(borrower=borrower, application_ref="S-young", n_periods=12),
    ]
    ids = sorted(loan.pk for loan in loans)
    business_date_set(business_date=date(2026, 2, 1), acting_user=None)
    _pay(loans[0], "300.00", date(2026, 2, 1))  # part of the first installment
    day = date(2026, 4, 20)  # the 3-month loans matured 04-01; 19 days on
    business_date_set(business_date=day, acting_user=None)
    _close(ids, day - ONE_DAY)
    # When the day closes: statuses, then the true-up (after the day's accrual)
    changed = _both_ways(ids, day, steps.transitions_orm, steps.transitions_sql)
    assert changed >= 0
    trued = _both_ways(ids, day, steps.final_true_up_orm, steps.final_true_up_sql, before=_accrued)
    # Then the daily-simple loan's final installment grew by the day's interest (the
    # scheduled one accrues nothing past maturity: trued up at its earlier closes) and each
    # past-maturity loan's installments bill exactly what it owes
    assert trued == 1
    for loan in loans[:2]:
        loan = Loan.objects.get(pk=loan.pk)
        billed = sum(
            (i.remaining for i in Installment.objects.filter(loan=loan, schedule__is_current=True)),
            Decimal("0.00"),
        )
        assert billed == loan.principal_balance + loan.interest_balance
    assert ledger_problems() == []


def test_an_installment_that_bills_nothing_is_paid_on_its_due_date(borrower):
    # Given a 0 % interest-only loan: its first installment bills nothing
    start = date(2026, 1, 1)
    business_date_set(business_date=start, acting_user=None)
    loan = board_loan(
        borrower=borrower,
        application_ref="S-zero",
        principal="100.00",
        annual_rate="0.0000",
        n_periods=2,
        frequency="biweekly",
        amortization="interest_only",
    )
    first = Installment.objects.get(loan=loan, schedule__is_current=True, number=1)
    assert first.remaining == Decimal("0.00")
    day = first.due_date
    business_date_set(business_date=day, acting_user=None)
    _close([loan.pk], day - ONE_DAY)
    # When its due date closes, both ways
    changed = _both_ways([loan.pk], day, steps.transitions_orm, steps.transitions_sql)
    # Then it is paid on that day (a status change alone broke the paid-date CHECK), and the
    # second one is still to come
    assert changed == 1
    first.refresh_from_db()
    assert (first.status, first.paid_on) == ("paid", day)
    second = Installment.objects.get(loan=loan, schedule__is_current=True, number=2)
    assert (second.status, second.paid_on) == ("upcoming", None)


def test_the_final_true_up_past_maturity_lands_on_the_last_installment_billing_principal(
    borrower,
):
    # Given a 3-month loan whose early prepayment took the final installment's principal (and
    # part of the second's), then unpaid past its maturity
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    loan = board_loan(
        borrower=borrower, application_ref="S-prepaid", principal="3000.00", n_periods=3
    )
    business_date_set(business_date=date(2026, 1, 15), acting_user=None)
    _pay(loan, "2200.00", date(2026, 1, 15))
    rows = list(Installment.objects.filter(loan=loan, schedule__is_current=True).order_by("number"))
    assert rows[2].principal_due == rows[2].principal_paid
    assert rows[1].principal_due > rows[1].principal_paid
    ids = [loan.pk]
    day = date(2026, 4, 20)
    business_date_set(business_date=day, acting_user=None)
    _close(ids, day - ONE_DAY)
    # When the day's true-up runs both ways
    _both_ways(ids, day, steps.final_true_up_orm, steps.final_true_up_sql, before=_accrued)
    # Then the second installment bills the interest the loan owes, the third none, and
    # together they bill exactly what the loan owes
    loan = Loan.objects.get(pk=loan.pk)
    rows = list(Installment.objects.filter(loan=loan, schedule__is_current=True).order_by("number"))
    assert rows[2].remaining == Decimal("0.00")
    assert sum((i.remaining for i in rows), Decimal("0.00")) == (
        loan.principal_balance + loan.interest_balance
    )
    assert ledger_problems() == []


def test_back_to_accrual_releases_the_suspended_interest(borrower, settings):
    settings.COB_NON_ACCRUAL_DPD = 5
    start = date(2026, 1, 1)
    business_date_set(business_date=start, acting_user=None)
    cured = board_loan(borrower=borrower, application_ref="N-cured")
    still = board_loan(borrower=borrower, application_ref="N-still")
    ids = sorted([cured.pk, still.pk])
    business_date_set(business_date=date(2026, 2, 10), acting_user=None)
    _close(ids, date(2026, 2, 9))
    assert Loan.objects.get(pk=cured.pk).non_accrual
    first = Installment.objects.get(loan=cured, number=1)
    _pay(cured, str(first.remaining + Decimal("5.00")), date(2026, 2, 10))
    day = date(2026, 2, 10)

    def close_sql(scope):
        return steps.delinquency_close_sql(scope)[2]

    def close_orm(scope):
        return steps.delinquency_close_orm(scope)[2]

    flipped = _both_ways(ids, day, close_orm, close_sql, before=_accrued)
    assert flipped == 1
    assert not Loan.objects.get(pk=cured.pk).non_accrual
    assert Loan.objects.get(pk=still.pk).non_accrual


def test_late_fees_without_pyramiding_and_once_across_a_modification(borrower, servicing_agent):
    start = date(2026, 1, 1)
    business_date_set(business_date=start, acting_user=None)
    pyramid = board_loan(borrower=borrower, application_ref="L-pyramid")
    modified = board_loan(borrower=borrower, application_ref="L-modified")
    plain = board_loan(borrower=borrower, application_ref="L-plain")
    ids = sorted(loan.pk for loan in (pyramid, modified, plain))
    # the first installments drew late fees; the first one was then paid its amount late
    business_date_set(business_date=date(2026, 2, 13), acting_user=None)
    _close(ids, date(2026, 2, 12))
    assert Fee.objects.filter(loan_id__in=ids, kind="late").count() == 3
    first, second = (Installment.objects.get(loan=pyramid, number=n) for n in (1, 2))
    business_date_set(business_date=date(2026, 2, 20), acting_user=None)
    _pay(pyramid, str(first.total_due), date(2026, 2, 20))
    loan_modify(
        loan=modified, annual_rate_pct=Decimal("9"), reason="rate", acting_user=servicing_agent
    )
    business_date_set(business_date=second.due_date, acting_user=None)
    _pay(pyramid, str(second.total_due), second.due_date)
    day = second.due_date + timedelta(days=11)
    business_date_set(business_date=day, acting_user=None)
    _close(ids, day - ONE_DAY)

    def charge_python(scope):
        steps.transitions(scope)
        return len(
            late_fees_charge(
                installments=scope.installments(), day=scope.day, business_date=scope.day
            )
        )

    def charge_sql(scope):
        steps.transitions(scope)
        return steps.late_fees(scope)

    charged = _both_ways(ids, day, charge_python, charge_sql)
    # the plain loan's and the modified loan's second installments: not the pyramid one's,
    # and not the modified loan's first again
    assert charged == 2
    assert Fee.objects.filter(loan=pyramid, kind="late").count() == 1
    assert Fee.objects.filter(loan=modified, kind="late").count() == 2
    assert ledger_problems() == []
