"""Servicing's portfolio reports, read from the snapshots close of business writes
(servicing.snapshots): the portfolio and its aging at a date, and portfolio at risk over a
window. A few hundred snapshot rows, whatever the book's size.

A snapshot is the book at the end of a closed business date: a report "as of" a date reads
the last snapshot on or before it (the business date itself is not closed yet) and says
which one (`snapshot_date`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from django.db.models import Sum

from lendcore.accounts.roles import Action
from lendcore.core.replica import using_replica
from lendcore.core.reports import ReportColumn, ReportFilters, ReportSpec, ReportTable
from lendcore.finance.money import ZERO, round_money

from . import loan_tape
from .cob import config as cob_config
from .models import LoanStatus, PortfolioSnapshot

# Portfolio at risk: the share of active principal at least this many days past due.
PAR_DAYS = (1, 30, 60, 90)
HUNDRED = Decimal(100)
# The loan tape report shows the tape's first loans (by id): a page and a JSON body of a
# million rows would take minutes; every loan streams from `GET /api/v1/loan-tape/`
# (`full_tape` in the summary), CSV or Parquet (docs/reports.md, issue 13's benchmark).
LOAN_TAPE_REPORT_ROWS = 500


def _snapshots(filters: ReportFilters):
    rows = using_replica(PortfolioSnapshot.objects.all())
    if filters.product:
        rows = rows.filter(product_code=filters.product)
    return rows


def _last_snapshot_date(filters: ReportFilters) -> date | None:
    return (
        _snapshots(filters)
        .filter(business_date__lte=filters.date_to)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return round_money(part * HUNDRED / whole) if whole else ZERO


def portfolio(filters: ReportFilters) -> ReportTable:
    """The book at the last snapshot on or before `to`, by product and status: loans and
    their principal, interest and fees outstanding."""
    on = _last_snapshot_date(filters)
    sums = (
        _snapshots(filters)
        .filter(business_date=on)
        .values("product_code", "status")
        .annotate(n=Sum("loans"), p=Sum("principal"), i=Sum("interest"), f=Sum("fees"))
        .order_by("product_code", "status")
    )
    rows: list[dict[str, Any]] = [
        {
            "product": r["product_code"],
            "status": r["status"],
            "loans": r["n"],
            "principal": r["p"],
            "interest": r["i"],
            "fees": r["f"],
            "outstanding": r["p"] + r["i"] + r["f"],
        }
        for r in sums
    ]
    return ReportTable(
        columns=[
            ReportColumn("product", "Product"),
            ReportColumn("status", "Status"),
            ReportColumn("loans", "Loans", "int"),
            ReportColumn("principal", "Principal", "money"),
            ReportColumn("interest", "Interest", "money"),
            ReportColumn("fees", "Fees", "money"),
            ReportColumn("outstanding", "Outstanding", "money"),
        ],
        rows=rows,
        summary={
            "snapshot_date": on,
            "loans": sum(int(r["loans"]) for r in rows),
            "total_outstanding": sum((Decimal(r["outstanding"]) for r in rows), ZERO),
        },
        chart_label="product",
        chart_values=("principal",),
    )


def aging(filters: ReportFilters) -> ReportTable:
    """Active loans at the last snapshot on or before `to` by delinquency bucket, in the
    buckets' order: loans, principal and its share of the active principal."""
    on = _last_snapshot_date(filters)
    sums = {
        r["bucket"]: r
        for r in _snapshots(filters)
        .filter(business_date=on, status=LoanStatus.ACTIVE)
        .values("bucket")
        .annotate(n=Sum("loans"), p=Sum("principal"))
        .order_by()
    }
    whole = sum((Decimal(r["p"]) for r in sums.values()), ZERO)
    rows: list[dict[str, Any]] = []
    for code, _lo, _hi in cob_config.buckets():
        row = sums.get(code, {"n": 0, "p": ZERO})
        rows.append(
            {
                "bucket": code,
                "loans": row["n"],
                "principal": row["p"],
                "share": _share(row["p"], whole),
            }
        )
    return ReportTable(
        columns=[
            ReportColumn("bucket", "Bucket"),
            ReportColumn("loans", "Loans", "int"),
            ReportColumn("principal", "Principal", "money"),
            ReportColumn("share", "Share of principal (%)", "percent"),
        ],
        rows=rows,
        summary={
            "snapshot_date": on,
            "loans": sum(int(r["loans"]) for r in rows),
            "total_principal": whole,
        },
        chart_label="bucket",
        chart_values=("principal",),
    )


def par(filters: ReportFilters) -> ReportTable:
    """Portfolio at risk on each snapshot date of the window: the active principal, and the
    share of it in buckets whose days past due start at 1, 30, 60 and 90 or more (PAR1 ...
    PAR90; with buckets configured otherwise, a PAR counts the buckets starting at or past
    its days)."""
    starts = {code: lo for code, lo, _hi in cob_config.buckets()}
    sums = (
        _snapshots(filters)
        .filter(
            business_date__gte=filters.date_from,
            business_date__lte=filters.date_to,
            status=LoanStatus.ACTIVE,
        )
        .values("business_date", "bucket")
        .annotate(p=Sum("principal"))
        .order_by("business_date")
    )
    by_day: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for r in sums:
        by_day[r["business_date"]][r["bucket"]] = r["p"]
    rows: list[dict[str, Any]] = []
    for day, buckets in sorted(by_day.items()):
        whole = sum(buckets.values(), ZERO)
        row: dict[str, Any] = {"date": day, "principal": whole}
        for days in PAR_DAYS:
            at_risk = sum((p for code, p in buckets.items() if starts.get(code, 0) >= days), ZERO)
            row[f"par{days}"] = _share(at_risk, whole)
        rows.append(row)
    return ReportTable(
        columns=[
            ReportColumn("date", "Business date", "date"),
            ReportColumn("principal", "Active principal", "money"),
            *(ReportColumn(f"par{d}", f"PAR{d} (%)", "percent") for d in PAR_DAYS),
        ],
        rows=rows,
        summary={"days": len(rows)},
        chart_label="date",
        chart_values=tuple(f"par{d}" for d in PAR_DAYS),
    )


_TAPE_KINDS = {
    loan_tape.INT: "int",
    loan_tape.DATE: "date",
    loan_tape.MONEY: "money",
    loan_tape.PCT: "percent",
}


def loan_tape_report(filters: ReportFilters) -> ReportTable:
    """The loan tape as of `to` (servicing.loan_tape, docs/loan_tape.md) as a report: its
    first `LOAN_TAPE_REPORT_ROWS` loans by id, in one chunk of the tape's queries whatever
    the book's size, and in the summary whether there are more and where the whole tape
    streams (`GET /api/v1/loan-tape/`, CSV or Parquet)."""
    shown = LOAN_TAPE_REPORT_ROWS
    # one chunk one row longer than shown: says whether there is more without a count
    rows = list(
        islice(
            loan_tape.loan_tape_rows(
                as_of=filters.date_to, product=filters.product or None, chunk_size=shown + 1
            ),
            shown + 1,
        )
    )
    query = {"as_of": filters.date_to.isoformat()} | (
        {"product": filters.product} if filters.product else {}
    )
    return ReportTable(
        columns=[
            ReportColumn(c.name, c.name, _TAPE_KINDS.get(c.kind, "text")) for c in loan_tape.COLUMNS
        ],
        rows=rows[:shown],
        summary={
            "loans": min(len(rows), shown),
            "truncated": len(rows) > shown,
            "full_tape": f"/api/v1/loan-tape/?{urlencode(query)}",
        },
    )


PORTFOLIO_REPORTS = (
    ReportSpec(
        name="portfolio",
        title="Portfolio",
        description="Loans and what they owe by product and status, at a date.",
        action=Action.VIEW_REPORTS,
        build=portfolio,
        balance_as_of=True,
    ),
    ReportSpec(
        name="aging",
        title="Aging",
        description="Active loans by delinquency bucket at a date, with each bucket's share.",
        action=Action.VIEW_REPORTS,
        build=aging,
        balance_as_of=True,
    ),
    ReportSpec(
        name="par",
        title="Portfolio at risk",
        description="PAR1, PAR30, PAR60 and PAR90 as a share of active principal, day by day.",
        action=Action.VIEW_REPORTS,
        build=par,
        default_days=365,
    ),
    ReportSpec(
        name="loan_tape",
        title="Loan tape",
        description="The first loans disbursed by a date, their balances and status as of that "
        "date; the whole tape downloads from the loan tape export.",
        action=Action.READ_LOAN,
        build=loan_tape_report,
        balance_as_of=True,
    ),
)
