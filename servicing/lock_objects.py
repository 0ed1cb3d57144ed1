"""The only `select_for_update()` of servicing. Locks are taken in pk order, loan first.

Every lock site calls a named function here: loans (one, one with the business date, many,
a pk range for close of business), the business date row, a COB run and a COB partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast

from django.db import connection
from django.db.transaction import TransactionManagementError

from lendcore.core.sqlrows import select_columns, select_models, select_models_extra

from .errors import ErrorCode, LoanNotFound
from .models import BusinessDate, CobPartition, CobRun, Loan
from .selectors import business_date_or_default


def _loan_lock_sql(extra: str = "") -> str:
    if connection.get_autocommit():
        raise TransactionManagementError("loan_lock runs inside a transaction")
    qn = connection.ops.quote_name
    lock = " FOR UPDATE OF l" if connection.features.has_select_for_update else ""
    table, pk = qn(Loan._meta.db_table), qn(str(Loan._meta.pk.column))
    return (
        f"SELECT {select_columns(Loan, 'l')}{extra} "  # noqa: S608
        f"FROM {table} l WHERE l.{pk} = %s{lock}"
    )


def loan_lock(*, loan_id: int) -> Loan:
    """Lock one loan row for the rest of the transaction (the parent of all its rows).

    Written as SQL: every payment runs it, and the ORM's compilation of this one-row
    SELECT ... FOR UPDATE of some fifty columns cost twice the raw query."""
    rows = select_models(Loan, _loan_lock_sql(), [loan_id])
    if not rows:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    return cast(Loan, rows[0])


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
    return cast(Loan, loan), business_date_or_default(stored)


def loans_lock(*, loan_ids: Iterable[int]) -> list[Loan]:
    """Lock many loans, always in ascending pk order so two batches never deadlock."""
    ids = sorted(set(loan_ids))
    return list(Loan.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def business_date_lock() -> BusinessDate | None:
    return BusinessDate.objects.select_for_update().filter(pk=1).first()


def loan_range_lock(*, lo: int, hi: int) -> int:
    """Lock the loan rows with pk in [lo, hi] (pk order) for the transaction; payments on
    them wait. Returns how many rows there are (SQLite, without row locks, only counts)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The steps' estimates (generate_series) would trigger JIT compilation, which
            # costs more than the statements themselves at partition size.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                "SELECT COUNT(*) FROM (SELECT id FROM servicing_loan WHERE id BETWEEN %s AND %s "
                "ORDER BY id FOR UPDATE) locked",
                [lo, hi],
            )
            return int(cursor.fetchone()[0])
    return Loan.objects.filter(pk__gte=lo, pk__lte=hi).count()


def cob_run_lock_for_date(*, business_date: date) -> CobRun | None:
    """Lock the close-of-business run of `business_date`, if there is one."""
    return CobRun.objects.select_for_update().filter(business_date=business_date).first()


def cob_run_lock(*, run_id: int) -> CobRun:
    """Lock one close-of-business run (after its partitions, which are its children)."""
    return CobRun.objects.select_for_update().get(pk=run_id)


def cob_partition_lock(*, partition_id: int) -> CobPartition:
    """Lock one close-of-business partition (its `done` marker commits with its work)."""
    return CobPartition.objects.select_for_update().get(pk=partition_id)
