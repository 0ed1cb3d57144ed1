"""The rows the engine writes: the fields it updates, the batched reads and writes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from django.db import connection

from lendcore.core.sqlrows import (
    select_columns,
    select_models_extra,
    update_many,
    update_row,
)
from servicing import calculations
from servicing.models import (
    Installment,
    ScheduleVersion,
)

# Installments read per batch by `LoanBook.load_for_payment`.
PARTIAL_BATCH = 6


def _installments_for_payment(
    loan_id: int, on: date, *, limit: int | None = None
) -> tuple[list[Installment], list[Installment]]:
    """(the current schedule's installments that are unpaid or due on or after `on`, in due
    date order, at most `limit` of them; the last two of the schedule not among them, which
    the true-up of the final installment reads), in one query: it runs for every payment
    (SQL: the ORM's compilation cost more). Unpaid: more than half a cent left, exact on
    PostgreSQL's numeric and robust to SQLite's floating-point sums."""
    qn = connection.ops.quote_name
    installment, version = qn(Installment._meta.db_table), qn(ScheduleVersion._meta.db_table)
    columns = select_columns(Installment, "i")
    head = (
        f"SELECT {columns}, 0 AS extra FROM {installment} i "  # noqa: S608
        f"JOIN {version} v ON v.id = i.schedule_id "
        "WHERE i.loan_id = %s AND v.is_current = %s AND ("
        "i.principal_due + i.interest_due + i.fee_due"
        " - i.principal_paid - i.interest_paid - i.fee_paid - i.cancelled > 0.005"
        " OR i.due_date >= %s) ORDER BY i.due_date, i.number"
    )
    params: list = [loan_id, True, on]
    if limit is not None:
        head += " LIMIT %s"
        params.append(limit)
    last_two = (
        f"SELECT {columns}, 1 AS extra FROM {installment} i "  # noqa: S608
        f"JOIN {version} v ON v.id = i.schedule_id "
        "WHERE i.loan_id = %s AND v.is_current = %s ORDER BY i.number DESC LIMIT 2"
    )
    sql = f"SELECT * FROM ({head}) h UNION ALL SELECT * FROM ({last_two}) t"  # noqa: S608
    rows = select_models_extra(Installment, sql, [*params, loan_id, True])
    found = [inst for inst, (extra,) in rows if not extra]
    seen = {inst.pk for inst in found}
    extras = [inst for inst, (extra,) in rows if extra and inst.pk not in seen]
    return cast(list[Installment], found), cast(list[Installment], extras)


INSTALLMENT_FIELDS = (
    "principal_due",
    "interest_due",
    "principal_true_up",
    "interest_true_up",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "cancelled",
    "status",
    "paid_on",
)


FEE_FIELDS = ("paid_amount", "waived_amount", "reversed_amount", "reversed_on")


# LoanBook.save: up to this many installment and fee rows are written with the loan's row
# in one statement (PostgreSQL); more take a bulk UPDATE each.
FEW_ROWS = 4


def _write_rows(model, rows: list, fields: tuple[str, ...]) -> None:
    """UPDATE the rows' fields: a plain UPDATE for one row, one UPDATE ... FROM (VALUES) for
    more (`update_many`: Django's CASE-per-row bulk_update cost a payment ~30 ms of Python)."""
    if len(rows) == 1:
        update_row(rows[0], fields)
    elif rows:
        update_many(rows, fields)


def _remaining_interest(inst: Installment) -> Decimal:
    """What an unpaid installment still bills of interest."""
    return calculations.remaining_interest(
        interest_due=inst.interest_due, interest_paid=inst.interest_paid, remaining=inst.remaining
    )
