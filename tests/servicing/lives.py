"""Walking a loan through its life in tests: the business date moves, close of business runs
(or not), and the borrower pays what the schedule bills, as the portal shows it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from servicing import selectors
from servicing.cob.runner import cob_close_through
from servicing.models import Fee, Installment, Loan, Payment
from servicing.selectors import business_date_get
from servicing.services import accrue_interest, business_date_set, payment_post

ONE_DAY = timedelta(days=1)


def move_to(day: date, *, cob: bool) -> None:
    """Make `day` the business date: close every day before it when `cob`, else just set it."""
    today = business_date_get()
    if day <= today:
        if day < today:
            business_date_set(business_date=day, acting_user=None)
        return
    if cob:
        results = cob_close_through(through=day - ONE_DAY)
        assert all(outcome != "failed" for _, outcome, _ in results), results
        assert business_date_get() == day
    else:
        business_date_set(business_date=day, acting_user=None)


def billed(loan: Loan, number: int, on: date) -> Decimal:
    """What the schedule bills for installment `number` on business date `on` (the portal's
    and the API's schedule: the final installment trued up as of `on`)."""
    loan = Loan.objects.get(pk=loan.pk)
    rows = {i.number: i for i in selectors.loan_schedule_rows(loan=loan, on=on)}
    return max(rows[number].remaining, Decimal("0.00"))


def pay(loan: Loan, amount: Decimal, on: date, *, allow_credit: bool = False) -> Payment:
    return payment_post(
        loan=Loan.objects.get(pk=loan.pk),
        amount=amount,
        effective_date=on,
        method="ach",
        acting_user=None,
        allow_credit=allow_credit,
    )


def pay_every_installment_as_billed(loan: Loan, *, days_after_due: int, cob: bool) -> None:
    """On each due date + `days_after_due`, pay what the schedule bills for that installment."""
    number = 0
    while True:
        loan = Loan.objects.get(pk=loan.pk)
        unpaid = (
            Installment.objects.filter(loan=loan, schedule__is_current=True, number__gt=number)
            .exclude(status="paid")
            .order_by("number")
            .first()
        )
        if loan.status != Loan.Status.ACTIVE or unpaid is None:
            return
        number = unpaid.number
        on = max(unpaid.due_date + timedelta(days=days_after_due), business_date_get())
        move_to(on, cob=cob)
        if not cob:
            accrue_interest([loan.pk], on - ONE_DAY)
        amount = billed(loan, number, on)
        if amount > 0:
            pay(loan, amount, on)


def late_fees_charged(loan: Loan) -> list[Fee]:
    return list(Fee.objects.filter(loan_id=loan.pk, kind=Fee.Kind.LATE, reversed_on__isnull=True))
