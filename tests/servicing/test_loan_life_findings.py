"""Loan lives the property test (test_loan_lives.py) found unsound, replayed as plain tests.
Each failed before its fix (on SQLite for the suspense release); the ledger check runs after
every one (conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from servicing import selectors
from servicing.ledger import loan_suspense_balance
from servicing.models import Account, EntryType, Installment, JournalEntry, JournalLine, Loan
from servicing.services import business_date_set, payment_reverse

from .factories import board_loan
from .lives import move_to, pay, pay_every_installment_as_billed

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


def test_a_cured_loan_whose_suspended_interest_was_collected_releases_nothing_more(
    borrower, business_date, settings
):
    # Given a loan on non-accrual from its first day past due, that put 0.01 a day into
    # suspense for 87 days (87 suspense lines), and a payment that collected all of it
    settings.COB_NON_ACCRUAL_DPD = 1
    loan = board_loan(borrower=borrower, principal="3650.00", annual_rate="0.001")
    on = date(2026, 5, 1)
    move_to(on, cob=True)
    assert Loan.objects.get(pk=loan.pk).non_accrual
    assert JournalLine.objects.filter(loan=loan, account=Account.SUSPENSE).count() == 87
    loan = Loan.objects.get(pk=loan.pk)
    pay(loan, Decimal("1262.32"), on)  # all that is past due: current again
    assert loan_suspense_balance(loan.pk) == ZERO
    # When close of business finds it current
    move_to(on + timedelta(days=1), cob=True)
    # Then it is back to accrual and releases nothing more (on SQLite the 87 lines summed to
    # 0.870000000000001: a release of 0.00 broke the ledger's one-side check)
    loan = Loan.objects.get(pk=loan.pk)
    assert not loan.non_accrual
    assert not JournalEntry.objects.filter(loan=loan, entry_type=EntryType.SUSPENSE_RELEASE)


def test_a_loan_whose_prepaid_principal_ends_it_early_bills_its_last_installment_to_zero(
    borrower,
):
    # Given a 204-payment biweekly loan at 35.99 % on 30/360, daily simple interest: each
    # installment bills its scheduled interest, a little more than 30/360 accrues over 14
    # days, so every payment as billed prepays a little principal, taken off the last
    # installments first; by the end the final installment bills no principal and the 203rd
    # is the loan's last
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    loan = board_loan(
        borrower=borrower,
        principal="3808.05",
        annual_rate="0.3599",
        n_periods=204,
        frequency="biweekly",
        day_count="30/360",
        interest_model="daily_simple",
    )
    # When every installment is paid what the schedule bills, on its due date
    pay_every_installment_as_billed(loan, days_after_due=0, cob=False)
    # Then the 203rd billed the payoff (its interest trued down to what accrued, where it
    # billed 0.91 more than the payoff and the payment was refused) and the loan is paid off
    # at zero, with no credit left and nothing billed after it
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == Loan.Status.PAID_OFF
    assert (loan.principal_balance, loan.interest_balance, loan.credit_balance) == (ZERO,) * 3
    remaining = _remaining(loan)
    assert remaining == dict.fromkeys(range(1, 205), ZERO)
    final = Installment.objects.get(loan=loan, schedule__is_current=True, number=204)
    assert final.principal_due == final.principal_paid == ZERO
