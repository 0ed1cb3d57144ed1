"""The only `select_for_update()` of servicing. Locks are taken in pk order, loan first."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.transaction import TransactionManagementError

from .errors import ErrorCode, LoanNotFound
from .models import BusinessDate, Loan


def loan_lock(*, loan_id: int) -> Loan:
    """Lock one loan row for the rest of the transaction (the parent of all its rows).

    Written as SQL: every payment runs it, and the ORM's compilation of this one-row
    SELECT ... FOR UPDATE of some fifty columns cost twice the raw query."""
    if connection.get_autocommit():
        raise TransactionManagementError("loan_lock runs inside a transaction")
    table = connection.ops.quote_name(Loan._meta.db_table)
    pk = connection.ops.quote_name(Loan._meta.pk.column or "id")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = list(Loan.objects.raw(f"SELECT * FROM {table} WHERE {pk} = %s{lock}", [loan_id]))  # noqa: S608
    if not rows:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    return rows[0]


def loans_lock(*, loan_ids: Iterable[int]) -> list[Loan]:
    """Lock many loans, always in ascending pk order so two batches never deadlock."""
    ids = sorted(set(loan_ids))
    return list(Loan.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def business_date_lock() -> BusinessDate | None:
    return BusinessDate.objects.select_for_update().filter(pk=1).first()
