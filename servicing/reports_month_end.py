"""Roll rates and vintage curves (issue 13), read from the cells close of business writes at
each month end (servicing.month_ends): one aggregate query each over a few thousand cells,
whatever the book's size. Both cover the month ends within the window asked for.

Roll rates: the loans active in bucket A at the previous month end, by where they are at
the month end (bucket B if still active, else paid_off or charged_off); a share is their
principal at the previous month end over all of A's (and the same by count). Loans
disbursed during the month are in no roll.

Vintages: the loans disbursed in one month (of a product, or all), at each month end after,
`months_on_book` months on: the principal charged off by then and the principal 30 or more
days past due then, each as a share of the principal disbursed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from lendcore.accounts.roles import Action
from lendcore.core.replica import using_replica
from lendcore.core.reports import ReportColumn, ReportFilters, ReportSpec, ReportTable
from lendcore.finance.money import ZERO, round_money

from .cob import config as cob_config
from .models import LoanStatus, RollRateCell, VintageCell

HUNDRED = Decimal(100)
# Where a loan may be at a month end besides an active bucket, in the order a table lists.
END_STATUSES = (LoanStatus.PAID_OFF, LoanStatus.CHARGED_OFF)


def _share(part: Decimal, whole: Decimal) -> Decimal:
    """Percent with two decimals (so a from-bucket's shares add up to 100 within rounding)."""
    return round_money(part * HUNDRED / whole) if whole else ZERO


def _cells(model, filters: ReportFilters):
    rows = using_replica(model.objects.all()).filter(
        month_end__gte=filters.date_from, month_end__lte=filters.date_to
    )
    if filters.product:
        rows = rows.filter(product_code=filters.product)
    return rows


def _order(codes: list[str]) -> dict[str, int]:
    """Buckets in their configured order, then the end statuses, then anything else."""
    return {code: rank for rank, code in enumerate(codes)}


def roll_rates(filters: ReportFilters) -> ReportTable:
    """One row per month end, bucket at the previous month end and state at the month end:
    loans and their principal at the previous month end, and their shares of the bucket's."""
    sums = (
        _cells(RollRateCell, filters)
        .values("month_end", "from_bucket", "to_state")
        .annotate(n=Sum("loans"), p=Sum("principal"))
        .order_by()
    )
    buckets = [code for code, _lo, _hi in cob_config.buckets()]
    rank = _order([*buckets, *END_STATUSES])
    cells = sorted(
        sums,
        key=lambda r: (
            r["month_end"],
            rank.get(r["from_bucket"], len(rank)),
            rank.get(r["to_state"], len(rank)),
            r["to_state"],
        ),
    )
    whole: dict[tuple[date, str], list] = defaultdict(lambda: [0, ZERO])
    for r in cells:
        total = whole[(r["month_end"], r["from_bucket"])]
        total[0] += r["n"]
        total[1] += r["p"]
    rows: list[dict[str, Any]] = []
    worse: dict[tuple[date, str], Decimal] = defaultdict(lambda: ZERO)
    for r in cells:
        loans, principal = whole[(r["month_end"], r["from_bucket"])]
        rows.append(
            {
                "month_end": r["month_end"],
                "from_bucket": r["from_bucket"],
                "to_state": r["to_state"],
                "loans": r["n"],
                "principal": round_money(r["p"]),
                "loan_share": _share(Decimal(r["n"]), Decimal(loans)),
                "principal_share": _share(r["p"], principal),
            }
        )
        if _rolls_forward(r["from_bucket"], r["to_state"], rank, len(buckets)):
            worse[(r["month_end"], r["from_bucket"])] += r["p"]
    return ReportTable(
        columns=[
            ReportColumn("month_end", "Month end", "date"),
            ReportColumn("from_bucket", "From bucket (previous month end)"),
            ReportColumn("to_state", "To (bucket or status)"),
            ReportColumn("loans", "Loans", "int"),
            ReportColumn("principal", "Principal (previous month end)", "money"),
            ReportColumn("loan_share", "Share of loans (%)", "percent"),
            ReportColumn("principal_share", "Share of principal (%)", "percent"),
        ],
        rows=rows,
        summary={"month_ends": len({r["month_end"] for r in rows})},
        chart_type="line",
        chart_label="month_end",
        chart_series="from_bucket",
        chart_values=("rolled_forward",),
        chart_rows=[
            {
                "month_end": month_end,
                "from_bucket": bucket,
                "rolled_forward": _share(worse[(month_end, bucket)], whole[(month_end, bucket)][1]),
            }
            for month_end, bucket in sorted(
                whole, key=lambda key: (key[0], rank.get(key[1], len(rank)))
            )
        ],
        chart_titles={"rolled_forward": "rolled to a worse bucket or charged off %"},
    )


def _rolls_forward(from_bucket: str, to_state: str, rank: dict[str, int], buckets: int) -> bool:
    """A later bucket, or charged off."""
    if to_state == LoanStatus.CHARGED_OFF:
        return True
    to = rank.get(to_state, buckets)
    return to < buckets and to > rank.get(from_bucket, buckets)


def vintage(filters: ReportFilters) -> ReportTable:
    """One row per origination month and month end of the window: months on book, loans,
    principal disbursed, charged off by then and 30+ days past due then, and their rates."""
    sums = (
        _cells(VintageCell, filters)
        .values("origination_month", "month_end", "months_on_book")
        .annotate(
            n=Sum("loans"), o=Sum("originated"), c=Sum("charged_off"), d=Sum("dpd30_principal")
        )
        .order_by("origination_month", "months_on_book")
    )
    rows: list[dict[str, Any]] = [
        {
            "origination_month": r["origination_month"].strftime("%Y-%m"),
            "months_on_book": r["months_on_book"],
            "month_end": r["month_end"],
            "loans": r["n"],
            "originated": round_money(r["o"]),
            "charged_off": round_money(r["c"]),
            "charged_off_rate": _share(r["c"], r["o"]),
            "dpd30_principal": round_money(r["d"]),
            "dpd30_rate": _share(r["d"], r["o"]),
        }
        for r in sums
    ]
    return ReportTable(
        columns=[
            ReportColumn("origination_month", "Origination month"),
            ReportColumn("months_on_book", "Months on book", "int"),
            ReportColumn("month_end", "Month end", "date"),
            ReportColumn("loans", "Loans", "int"),
            ReportColumn("originated", "Principal disbursed", "money"),
            ReportColumn("charged_off", "Charged off (cumulative)", "money"),
            ReportColumn("charged_off_rate", "Charged off (% of disbursed)", "percent"),
            ReportColumn("dpd30_principal", "Principal 30+ DPD", "money"),
            ReportColumn("dpd30_rate", "30+ DPD (% of disbursed)", "percent"),
        ],
        rows=rows,
        summary={"vintages": len({r["origination_month"] for r in rows})},
        chart_type="line",
        chart_label="months_on_book",
        chart_series="origination_month",
        chart_values=("charged_off_rate", "dpd30_rate"),
        chart_titles={"charged_off_rate": "charged off %", "dpd30_rate": "30+ DPD %"},
    )


MONTH_END_REPORTS = (
    ReportSpec(
        name="roll_rates",
        title="Roll rates",
        description=(
            "Where each bucket's loans went from one month end to the next: share of principal "
            "and of loans by bucket or status."
        ),
        action=Action.VIEW_REPORTS,
        build=roll_rates,
        default_days=365,
    ),
    ReportSpec(
        name="vintage",
        title="Vintage curves",
        description=(
            "Cumulative charge-offs and 30+ DPD principal as a share of the principal disbursed, "
            "by origination month and months on book."
        ),
        action=Action.VIEW_REPORTS,
        build=vintage,
        default_days=365,
    ),
)
