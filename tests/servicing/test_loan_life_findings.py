"""Loan lives the property test (test_loan_lives.py) found unsound, replayed as plain tests.
Each failed before its fix; the ledger check runs after
every one (conftest.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from servicing import selectors
from servicing.models import Installment, Loan
from servicing.services import business_date_set, payment_reverse

from .factories import board_loan
from .lives import pay

ZERO = Decimal("0.00")


def _remaining(loan: Loan) -> dict[int, Decimal]:
    installments = Installment.objects.filter(loan=loan, schedule__is_current=True)
    return {i.number: i.remaining for i in installments.order_by("number")}


def test_a_reversal_does_not_bill_the_cancelled_interest_of_the_final_installment_again(
    borrower, servicing_agent
):
    # Given a `scheduled` biweekly loan at 0.1 % (ACT/ACT-ISDA) whose final installment a
    # prepayment paid, its scheduled interest (0.01) cancelled, and whose principal later
    # true-ups billed again
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    loan = board_loan(
        borrower=borrower,
        principal="3034.22",
        annual_rate="0.0010",
        n_periods=10,
        frequency="biweekly",
        day_count="ACT/ACT-ISDA",
        interest_model="scheduled",
    )
    first = pay(loan, Decimal("303.49"), date(2026, 1, 1))
    pay(loan, Decimal("532.49"), date(2026, 1, 1))
    business_date_set(business_date=date(2026, 1, 31), acting_user=None)
    pay(loan, Decimal("945.24"), date(2026, 1, 31))
    business_date_set(business_date=date(2026, 3, 11), acting_user=None)
    late = pay(loan, Decimal("206.78"), date(2026, 2, 26))
    # When two payments are returned and the borrower then pays what the loan bills
    business_date_set(business_date=date(2026, 6, 19), acting_user=None)
    payment_reverse(payment=first, reason="returned", acting_user=servicing_agent)
    business_date_set(business_date=date(2026, 7, 2), acting_user=None)
    payment_reverse(payment=late, reason="returned", acting_user=servicing_agent)
    on = date(2026, 8, 7)
    business_date_set(business_date=on, acting_user=None)
    loan = Loan.objects.get(pk=loan.pk)
    pay(loan, selectors.loan_balances(loan, on=on).next_due_amount, on)
    # Then the final installment is paid to zero, not 0.01 beyond it (the cancelled cent was
    # taken as interest again and its principal trued down below what it bills)
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == Loan.Status.PAID_OFF
    assert _remaining(loan) == dict.fromkeys(range(1, 11), ZERO)
