"""Month ends (servicing.models.snapshots: LoanMonthEnd, RollRateCell, VintageCell): each
loan as the close of a month's last day left it, and the aggregate cells the roll-rate and
vintage reports read (servicing/reports_month_end.py).

Written by close of business when the day it closes is the last of its month (the run's
`month_end` step), and rebuilt for a past month end from the ledger and the loans' history
by `manage.py backfill_snapshots`; both are pinned equal by
tests/servicing/test_reports_roll_vintage.py. The same way as the daily snapshots
(servicing.snapshots):
- tonight's (`month_end_write`) copies the loan rows as the night left them (their cached
  balances equal the ledger) in one INSERT ... SELECT, whatever the book's size;
- a past month end's (`month_end_rebuild`) copies the loan tape as of that day.
Both then derive the cells from the stored rows (`month_end_cells_write`): a join of this
month end's rows with the previous one's for the rolls, a grouping by disbursement date for
the vintages. Idempotent: a month end's rows and cells are replaced.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from lendcore.core.sqlrows import sql_money
from lendcore.finance.money import ZERO, round_money

from .cob import config as cob_config
from .loan_tape import loan_tape_rows
from .models import ChargeOff, Loan, LoanMonthEnd, LoanStatus, RollRateCell, VintageCell

ONE_DAY = timedelta(days=1)
BATCH = 5000
# Days past due from which a loan counts in a vintage's "30+ DPD" principal.
DPD30 = 30
# A charge-off counts while the loan is charged off at the month end (an undone one was in
# force until it was undone; the loan's status at the month end says whether it still is).
_CHARGE_OFF_STATUSES = (ChargeOff.Status.APPROVED, ChargeOff.Status.UNDONE)


def is_month_end(day: date) -> bool:
    return (day + ONE_DAY).day == 1


def previous_month_end(day: date) -> date:
    return day.replace(day=1) - ONE_DAY


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from `earlier`'s month to `later`'s (0 in the same month)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_INSERT_SQL = """
INSERT INTO {lme} (month_end, loan_id, product_code, disbursed_on, principal_amount, status,
                   bucket, dpd, principal, charged_off_principal)
SELECT %(day)s, l.id, l.product_code, l.disbursed_on, l.principal_amount, l.status,
       CASE WHEN l.status = %(active)s THEN l.delinquency_bucket ELSE %(current)s END,
       CASE WHEN l.status = %(active)s THEN l.dpd ELSE 0 END,
       l.principal_balance,
       CASE WHEN l.status = %(charged_off)s THEN COALESCE((
           SELECT co.principal FROM {charge_off} co
           WHERE co.loan_id = l.id AND co.status IN (%(approved)s, %(undone)s)
             AND co.effective_date <= %(day)s
           ORDER BY co.effective_date DESC, co.id DESC LIMIT 1), 0) ELSE 0 END
FROM {loan} l
WHERE l.disbursed_on <= %(day)s
"""


@transaction.atomic
def month_end_write(day: date) -> int:
    """Tonight's month end `day` (just closed, the last day of its month) from the loan rows,
    and its cells. Returns the loans written."""
    LoanMonthEnd.objects.filter(month_end=day).delete()
    sql = _INSERT_SQL.format(
        lme=_table(LoanMonthEnd), charge_off=_table(ChargeOff), loan=_table(Loan)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "day": day,
                "active": LoanStatus.ACTIVE,
                "current": cob_config.bucket_for(0),
                "charged_off": LoanStatus.CHARGED_OFF,
                "approved": ChargeOff.Status.APPROVED,
                "undone": ChargeOff.Status.UNDONE,
            },
        )
        written = cursor.rowcount
    month_end_cells_write(day)
    return written


@transaction.atomic
def month_end_rebuild(day: date) -> int:
    """Month end `day` rebuilt from the loan tape as of `day` (the ledger and the loans'
    history), and its cells. Returns the loans written."""
    charged: dict[int, Decimal] = dict(
        ChargeOff.objects.filter(status__in=_CHARGE_OFF_STATUSES, effective_date__lte=day)
        .order_by("loan_id", "effective_date", "id")
        .values_list("loan_id", "principal")
    )  # the last one per loan wins
    LoanMonthEnd.objects.filter(month_end=day).delete()
    rows = (_row(day, row, charged) for row in loan_tape_rows(as_of=day))
    written = 0
    while batch := list(islice(rows, BATCH)):
        LoanMonthEnd.objects.bulk_create(batch)
        written += len(batch)
    month_end_cells_write(day)
    return written


def _row(day: date, tape: dict[str, Any], charged: dict[int, Decimal]) -> LoanMonthEnd:
    status = tape["status"]
    return LoanMonthEnd(
        month_end=day,
        loan_id=tape["loan_id"],
        product_code=tape["product_code"],
        disbursed_on=tape["disbursed_on"],
        principal_amount=tape["principal_amount"],
        status=status,
        bucket=tape["delinquency_bucket"],
        dpd=tape["dpd"],
        principal=tape["principal_outstanding"],
        charged_off_principal=(
            charged.get(tape["loan_id"], ZERO) if status == LoanStatus.CHARGED_OFF else ZERO
        ),
    )


_ROLL_SQL = """
SELECT p.product_code, p.bucket,
       CASE WHEN c.status = %(active)s THEN c.bucket ELSE c.status END AS to_state,
       COUNT(*), SUM(p.principal)
FROM {lme} p
JOIN {lme} c ON c.loan_id = p.loan_id AND c.month_end = %(day)s
WHERE p.month_end = %(previous)s AND p.status = %(active)s
GROUP BY p.product_code, p.bucket, CASE WHEN c.status = %(active)s THEN c.bucket ELSE c.status END
"""


@transaction.atomic
def month_end_cells_write(day: date) -> tuple[int, int]:
    """The roll-rate and vintage cells of month end `day`, from its loan rows and the
    previous month end's (no roll cells when that one has none). Returns (rolls, vintages)."""
    RollRateCell.objects.filter(month_end=day).delete()
    VintageCell.objects.filter(month_end=day).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _ROLL_SQL.format(lme=_table(LoanMonthEnd)),
            {"day": day, "previous": previous_month_end(day), "active": LoanStatus.ACTIVE},
        )
        rolls = [
            RollRateCell(
                month_end=day,
                product_code=product,
                from_bucket=from_bucket,
                to_state=to_state,
                loans=loans,
                principal=sql_money(principal),
            )
            for product, from_bucket, to_state, loans, principal in cursor.fetchall()
        ]
    RollRateCell.objects.bulk_create(rolls)
    vintages = _vintages(day)
    VintageCell.objects.bulk_create(vintages)
    return len(rolls), len(vintages)


def _vintages(day: date) -> list[VintageCell]:
    """Grouped by product and disbursement date in the database (a few hundred rows a
    year), folded into origination months here."""
    by_day = (
        LoanMonthEnd.objects.filter(month_end=day)
        .values("product_code", "disbursed_on")
        .annotate(
            n=Count("id"),
            originated=Sum("principal_amount"),
            charged=Sum("charged_off_principal"),
            late=Sum("principal", filter=Q(status=LoanStatus.ACTIVE, dpd__gte=DPD30)),
        )
        .order_by()
    )
    cells: dict[tuple[str, date], dict[str, Any]] = defaultdict(
        lambda: {"loans": 0, "originated": ZERO, "charged_off": ZERO, "dpd30_principal": ZERO}
    )
    for row in by_day:
        sums = cells[(row["product_code"], row["disbursed_on"].replace(day=1))]
        sums["loans"] += row["n"]
        sums["originated"] += row["originated"] or ZERO
        sums["charged_off"] += row["charged"] or ZERO
        sums["dpd30_principal"] += row["late"] or ZERO
    return [
        VintageCell(
            month_end=day,
            product_code=product,
            origination_month=month,
            months_on_book=months_between(month, day),
            loans=sums["loans"],
            originated=round_money(sums["originated"]),
            charged_off=round_money(sums["charged_off"]),
            dpd30_principal=round_money(sums["dpd30_principal"]),
        )
        for (product, month), sums in sorted(cells.items())
    ]
