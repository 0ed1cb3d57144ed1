"""The only `select_for_update()` of servicing. Locks are taken in pk order, loan first."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ErrorCode, LoanNotFound
from .models import BusinessDate, Loan


def loan_lock(*, loan_id: int) -> Loan:
    """Lock one loan row for the rest of the transaction (the parent of all its rows)."""
    loan = Loan.objects.select_for_update().filter(pk=loan_id).first()
    if loan is None:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    return loan


def loans_lock(*, loan_ids: Iterable[int]) -> list[Loan]:
    """Lock many loans, always in ascending pk order so two batches never deadlock."""
    ids = sorted(set(loan_ids))
    return list(Loan.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def business_date_lock() -> BusinessDate | None:
    return BusinessDate.objects.select_for_update().filter(pk=1).first()
