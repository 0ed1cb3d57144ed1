"""Inline catch-up: a write on a loan whose close of business lags first closes the missing
days for that loan alone (Fineract's inline COB), with the same set-based steps."""

from __future__ import annotations

from datetime import date, timedelta

from servicing.models import Loan

from .close import close_range
from .steps import StepClock

ONE_DAY = timedelta(days=1)


def loan_catch_up(*, loan: Loan, business_date: date) -> Loan:
    """Close the loan (locked by the caller) through business_date - 1 if its last close is
    older; returns the loan as now stored. A loan never closed has nothing to catch up."""
    last = loan.last_closed_on
    through = business_date - ONE_DAY
    if last is None or last >= through:
        return loan
    close_range(lo=loan.pk, hi=loan.pk, business_date=through, clock=StepClock(), lock=False)
    loan.refresh_from_db()
    return loan
