"""Payoff arithmetic shared by the loan page, the quote service and the letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lendcore.finance.money import ZERO

from .accrual import Period, per_diem, projected_interest
from .models import Loan


@dataclass(frozen=True)
class PayoffQuote:
    loan_id: int
    loan_number: str
    quote_date: date
    good_through: date
    principal: Decimal
    interest: Decimal  # posted and unpaid, plus what accrues through the quote date
    fees: Decimal
    credit: Decimal
    payoff_amount: Decimal
    per_diem: Decimal  # added for each day after `good_through`


def _interest_through(loan: Loan, on: date, periods: list[Period] | None) -> Decimal:
    return loan.interest_balance + max(projected_interest(loan, on, periods=periods), ZERO)


def payoff_amount_on(loan: Loan, on: date, *, periods: list[Period] | None = None) -> Decimal:
    """Principal + interest accrued through `on` + fees - credit (never below zero)."""
    interest = _interest_through(loan, on, periods)
    total = loan.principal_balance + interest + loan.fees_balance - loan.credit_balance
    return max(total, ZERO)


def payoff_quote_build(loan: Loan, on: date) -> PayoffQuote:
    interest = _interest_through(loan, on, None)
    total = loan.principal_balance + interest + loan.fees_balance - loan.credit_balance
    return PayoffQuote(
        loan_id=loan.pk,
        loan_number=loan.loan_number,
        quote_date=on,
        good_through=on,
        principal=loan.principal_balance,
        interest=interest,
        fees=loan.fees_balance,
        credit=loan.credit_balance,
        payoff_amount=max(total, ZERO),
        per_diem=per_diem(loan, on) if loan.status == Loan.Status.ACTIVE else ZERO,
    )
