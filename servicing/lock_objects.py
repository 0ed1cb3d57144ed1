"""The only `select_for_update()` of servicing. Locks are taken in pk order, loan first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection
from django.db.transaction import TransactionManagementError

from lendcore.core.sqlrows import select_columns, select_models, select_models_extra

from .errors import ErrorCode, LoanNotFound
from .models import BusinessDate, Loan
from .selectors import business_date_or_default


def _loan_lock_sql(extra: str = "") -> str:
    if connection.get_autocommit():
        raise TransactionManagementError("loan_lock runs inside a transaction")
    qn = connection.ops.quote_name
    lock = " FOR UPDATE OF l" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {select_columns(Loan, 'l')}{extra} "  # noqa: S608
        f"FROM {qn(Loan._meta.db_table)} l WHERE l.{qn(Loan._meta.pk.column)} = %s{lock}"
    )


def loan_lock(*, loan_id: int) -> Loan:
    """Lock one loan row for the rest of the transaction (the parent of all its rows).

    Written as SQL: every payment runs it, and the ORM's compilation of this one-row
    SELECT ... FOR UPDATE of some fifty columns cost twice the raw query."""
    rows = select_models(Loan, _loan_lock_sql(), [loan_id])
    if not rows:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    return rows[0]


def loan_lock_dated(*, loan_id: int) -> tuple[Loan, date]:
    """`loan_lock`, with the business date read in the same statement (a payment needs both:
    one round trip fewer). The date is the one the statement started with, as when read
    just before the lock."""
    qn = connection.ops.quote_name
    extra = f", (SELECT business_date FROM {qn(BusinessDate._meta.db_table)} WHERE id = 1)"  # noqa: S608
    rows = select_models_extra(Loan, _loan_lock_sql(extra), [loan_id])
    if not rows:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    loan, (stored,) = rows[0]
    return loan, business_date_or_default(stored)


def loans_lock(*, loan_ids: Iterable[int]) -> list[Loan]:
    """Lock many loans, always in ascending pk order so two batches never deadlock."""
    ids = sorted(set(loan_ids))
    return list(Loan.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def business_date_lock() -> BusinessDate | None:
    return BusinessDate.objects.select_for_update().filter(pk=1).first()
