"""Portfolio snapshots (servicing.models.snapshots): written by close of business for the day
it closes, and rebuilt for a past day from the ledger.

Two readers of one book, pinned equal by tests/servicing/test_snapshots.py:
- tonight's (`portfolio_snapshot_write`) groups the loan rows as the night left them (their
  cached balances equal the ledger: `ledger_check`): one aggregate query, a few hundred
  milliseconds for a million loans, run once per night after the last partition;
- a past day's (`portfolio_snapshot_rebuild`) aggregates the loan tape as of that day
  (balances from the journal lines effective by then, status and bucket from the loans'
  history), for a book that was running before snapshots were written.
The day's flows (`PortfolioActivity`) are the same query for both: disbursements, payments
received, charge-offs and recoveries posted on that business date.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum

from lendcore.finance.money import ZERO, round_money

from .loan_tape import loan_tape_rows
from .models import (
    Account,
    EntryType,
    JournalLine,
    Loan,
    Payment,
    PortfolioActivity,
    PortfolioSnapshot,
)

Cell = tuple[str, str, str]  # product, bucket, status


def _replace(day: date, cells: dict[Cell, dict]) -> int:
    PortfolioSnapshot.objects.filter(business_date=day).delete()
    PortfolioSnapshot.objects.bulk_create(
        PortfolioSnapshot(
            business_date=day,
            product_code=product,
            bucket=bucket,
            status=status,
            loans=sums["loans"],
            principal=round_money(sums["principal"]),
            interest=round_money(sums["interest"]),
            fees=round_money(sums["fees"]),
        )
        for (product, bucket, status), sums in sorted(cells.items())
    )
    return len(cells)


@transaction.atomic
def portfolio_snapshot_write(day: date, cells: dict[Cell, dict] | None = None) -> int:
    """Tonight's snapshot of `day` (just closed) from the loan rows (`cells`: read already by
    `portfolio_snapshot_cells`), and the day's flows. Idempotent: the day's rows are replaced.
    Returns the snapshot's rows."""
    written = _replace(day, portfolio_snapshot_cells(day) if cells is None else cells)
    portfolio_activity_write(day)
    return written


def portfolio_snapshot_cells(day: date) -> dict[Cell, dict]:
    """The loans disbursed by `day` as they stand, summed by (product, bucket, status): one
    aggregate query (a read only: close of business may run it on a side connection)."""
    rows = (
        Loan.objects.filter(disbursed_on__lte=day)
        .values("product_code", "delinquency_bucket", "status")
        .annotate(
            n=Count("id"),
            principal=Sum("principal_balance"),
            interest=Sum("interest_balance"),
            fees_sum=Sum("fees_balance"),
        )
        .order_by()
    )
    return {
        (r["product_code"], r["delinquency_bucket"], r["status"]): {
            "loans": r["n"],
            "principal": r["principal"] or ZERO,
            "interest": r["interest"] or ZERO,
            "fees": r["fees_sum"] or ZERO,
        }
        for r in rows
    }


@transaction.atomic
def portfolio_snapshot_rebuild(day: date) -> int:
    """`day`'s snapshot rebuilt from the ledger and the loans' history (the loan tape as of
    `day`), and the day's flows. Idempotent. Returns the snapshot's rows."""
    cells: dict[Cell, dict] = defaultdict(
        lambda: {"loans": 0, "principal": ZERO, "interest": ZERO, "fees": ZERO}
    )
    for row in loan_tape_rows(as_of=day):
        sums = cells[(row["product_code"], row["delinquency_bucket"], row["status"])]
        sums["loans"] += 1
        sums["principal"] += row["principal_outstanding"]
        sums["interest"] += row["interest_receivable"]
        sums["fees"] += row["fees_receivable"]
    written = _replace(day, dict(cells))
    portfolio_activity_write(day)
    return written


def portfolio_activity_write(day: date) -> int:
    """`day`'s flows by product, replacing any written before. Returns the rows."""
    flows: dict[str, dict[str, Decimal | int]] = defaultdict(
        lambda: {
            "originations": 0,
            "originated": ZERO,
            "payments": 0,
            "paid": ZERO,
            "charge_offs": 0,
            "charged_off": ZERO,
            "recoveries": ZERO,
        }
    )
    disbursed = (
        Loan.objects.filter(disbursed_on=day)
        .values("product_code")
        .annotate(n=Count("id"), amount=Sum("principal_amount"))
        .order_by()
    )
    for loan_row in disbursed:
        flows[loan_row["product_code"]].update(
            originations=loan_row["n"], originated=loan_row["amount"]
        )
    received = (
        Payment.objects.filter(posted_on=day)
        .values("loan__product_code")
        .annotate(
            n=Count("id", filter=Q(is_recovery=False)),
            paid=Sum("amount", filter=Q(is_recovery=False)),
            recovered=Sum("amount", filter=Q(is_recovery=True)),
        )
        .order_by()
    )
    for pay_row in received:
        flows[pay_row["loan__product_code"]].update(
            payments=pay_row["n"],
            paid=pay_row["paid"] or ZERO,
            recoveries=pay_row["recovered"] or ZERO,
        )
    charged = (
        JournalLine.objects.filter(
            entry__business_date=day,
            entry__entry_type=EntryType.CHARGE_OFF,
            account=Account.CHARGE_OFF,
        )
        .values("entry__loan__product_code")
        .annotate(n=Count("entry__loan_id", distinct=True), amount=Sum("debit"))
        .order_by()
    )
    for line_row in charged:
        flows[line_row["entry__loan__product_code"]].update(
            charge_offs=line_row["n"], charged_off=line_row["amount"] or ZERO
        )
    PortfolioActivity.objects.filter(business_date=day).delete()
    PortfolioActivity.objects.bulk_create(
        PortfolioActivity(business_date=day, product_code=product, **values)
        for product, values in sorted(flows.items())
    )
    return len(flows)
