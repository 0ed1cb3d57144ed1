"""Daily ledger and payment totals (servicing.models.snapshots): written by close of business
for the day it closes (its `daily_totals` step) and by `manage.py backfill_ledger_totals`,
read by the ledger reports (`servicing.reports`) for the days written.

Why a closed day's totals stay right: every journal entry is posted with the business date
open when it was posted (close of business posts with the day it closes, which is the open
one; a payment's catch-up of a lagging loan posts on the day before the open one, which no
close has closed for that loan), and the business date never moves back to a closed day
(`business_date_set`). So once day D is closed no line of D is added; the payments alike
(`posted_on` is the open business date). What does change after a day is closed is a
payment's status (a reversal): the reports read that from the payments, not from here.

A line's product is its loan's (`JournalLine.loan`: every line of an entry with a loan names
it, `servicing.ledger`). Close of business posts a day's accrual for a scope's loans as one
entry without a loan (`servicing.cob.steps.accrual`): a receivable debit per loan, a suspense
credit per non-accrual loan, and ONE interest income credit without a loan, the sum of the
accruing loans' accruals. That credit is each product's exactly: its loans' receivable debits
less their suspense credits in the entry (`accrual_income_share`), so each product's lines
balance; the totals and the reports' live path both attribute it so.

A day is written or it is not (`DailyTotalsDay`): the reports read the days not written (the
open business date, a day skipped or never closed, a book from before these totals) from the
lines themselves, so such a day is never counted as zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Max, Min, Q, Sum, Value, When

from lendcore.core.replica import using_replica
from lendcore.finance.money import ZERO

from .models import (
    Account,
    DailyTotalsDay,
    JournalEntry,
    JournalLine,
    LedgerDayTotal,
    Payment,
    PaymentDayTotal,
)

ONE_DAY = timedelta(days=1)
BATCH = 5000

# (first, last) business dates not written; `first` None: from the beginning of the books
Span = tuple[date | None, date]

# Of journal lines: close of business's shared accrual entries, and their loanless income line
SHARED_ACCRUAL = Q(entry__loan__isnull=True, entry__entry_type=JournalEntry.Type.ACCRUAL)
SHARED_INCOME = SHARED_ACCRUAL & Q(loan__isnull=True, account=Account.INTEREST_INCOME)
INCOME_ACCOUNT = Account.INTEREST_INCOME.value
MONEY = DecimalField(max_digits=18, decimal_places=2)


class AttributionMismatch(Exception):
    """The products' shares of the shared accrual income do not add up to its lines."""


def accrual_income_share() -> Sum:
    """Aggregate of journal lines: the part of close of business's shared accrual income
    credit that is theirs (grouped by product: the product's share, a credit to interest
    income). A loan's receivable debit in a shared accrual entry, less its suspense credit
    (a non-accrual loan's accrual goes to suspense, not income); any other line 0."""
    mine = SHARED_ACCRUAL & Q(loan__isnull=False)
    return Sum(
        Case(
            When(mine & Q(account=Account.INTEREST), then=F("debit")),
            When(mine & Q(account=Account.SUSPENSE), then=-F("credit")),
            default=Value(ZERO),
            output_field=MONEY,
        )
    )


@transaction.atomic
def daily_totals_write(
    date_from: date,
    date_to: date | None = None,
    *,
    source: str,
    ledger_rows: Iterable[dict[str, Any]] | None = None,
) -> int:
    """Write the totals of every business date from `date_from` to `date_to` (default: that
    one day) from the journal lines and payments, replacing any written before, and mark
    each date written. Two aggregate queries whatever the range (one when `ledger_rows`, the
    lines' aggregate, was read already by `ledger_row_reads`). Returns the rows written."""
    date_to = date_to or date_from
    days = (date_from, date_to)
    if ledger_rows is None:
        ledger_rows = [row for read in ledger_row_reads(days) for row in read()]
    LedgerDayTotal.objects.filter(business_date__range=days).delete()
    PaymentDayTotal.objects.filter(business_date__range=days).delete()
    DailyTotalsDay.objects.filter(business_date__range=days).delete()
    written = len(
        LedgerDayTotal.objects.bulk_create(
            (
                LedgerDayTotal(
                    business_date=day,
                    product_code=product,
                    entry_type=entry_type,
                    account=account,
                    debit=cell["d"],
                    credit=cell["c"],
                    lines=cell["n"],
                    entries=cell["e"],
                )
                for (day, product, entry_type, account), cell in _ledger_cells(ledger_rows).items()
            ),
            batch_size=BATCH,
        )
    )
    payments = (
        Payment.objects.filter(posted_on__range=days)
        .values("posted_on", "loan__product_code", "method")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    written += len(
        PaymentDayTotal.objects.bulk_create(
            (
                PaymentDayTotal(
                    business_date=row["posted_on"],
                    product_code=row["loan__product_code"],
                    method=row["method"],
                    payments=row["n"],
                    amount=row["amount"],
                )
                for row in payments
            ),
            batch_size=BATCH,
        )
    )
    DailyTotalsDay.objects.bulk_create(
        DailyTotalsDay(business_date=date_from + timedelta(days=n), source=source)
        for n in range((date_to - date_from).days + 1)
    )
    return written


def ledger_row_reads(
    days: tuple[date, date], *, chunks: int = 1
) -> list[Callable[[], list[dict[str, Any]]]]:
    """The reads of the days' lines summed by (business date, product, entry type, account),
    for `_ledger_cells`: `chunks` reads of disjoint ranges of entry ids, whose rows add up
    (each entry's lines fall in one range, so its distinct entries count once), one query
    each. Close of business runs them side by side (`lendcore.core.side_reads`)."""
    # The days' entries' ids bound the lines by their entry index: a night's step reads that
    # night's lines, not a seq scan of the whole journal (7 s at a million loans without it).
    bounds = JournalEntry.objects.filter(business_date__range=days).aggregate(
        lo=Min("id"), hi=Max("id")
    )
    lo, hi = bounds["lo"], bounds["hi"]
    if lo is None:
        return []
    step = -(-(hi - lo + 1) // chunks)  # ceiling: the last range may be shorter
    return [
        partial(_ledger_rows, days, first, min(first + step - 1, hi))
        for first in range(lo, hi + 1, step)
    ]


def _ledger_rows(days: tuple[date, date], lo: int, hi: int) -> list[dict[str, Any]]:
    rows = (
        JournalLine.objects.filter(
            entry_id__gte=lo, entry_id__lte=hi, entry__business_date__range=days
        )
        .values("entry__business_date", "loan__product_code", "entry__entry_type", "account")
        .annotate(
            d=Sum("debit"),
            c=Sum("credit"),
            n=Count("id"),
            e=Count("entry_id", distinct=True),
            share=accrual_income_share(),
            shared=Count(
                "entry_id", distinct=True, filter=SHARED_ACCRUAL & Q(account=Account.INTEREST)
            ),
            moved_c=Sum("credit", filter=SHARED_INCOME),
            moved_d=Sum("debit", filter=SHARED_INCOME),
        )
        .order_by()
    )
    return [dict(row) for row in rows]


def _ledger_cells(rows: Iterable[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """The ledger totals of the days, by (business date, product, entry type, account), from
    `ledger_row_reads`' rows, with the shared accrual entries' income credit moved from their
    loanless line (blank product) to the products it is theirs of. A product's moved income
    is counted in `entries` (the shared entries its loans are in) but not in `lines` (no line
    of the product's is there); the blank product's row keeps the loanless lines' count (the
    journal counts them) with what was moved taken off its amount (zero when they are all
    moved). A key may come in several rows (one per range read): they add up."""
    cells: dict[tuple, dict[str, Any]] = {}
    shares: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        day, product = row["entry__business_date"], row["loan__product_code"] or ""
        key = (day, product, row["entry__entry_type"], row["account"])
        cell = cells.setdefault(key, {"d": ZERO, "c": ZERO, "n": 0, "e": 0})
        cell["d"] += (row["d"] or ZERO) - (row["moved_d"] or ZERO)
        cell["c"] += (row["c"] or ZERO) - (row["moved_c"] or ZERO)
        cell["n"] += row["n"]
        cell["e"] += row["e"]
        shares[day] -= (row["moved_c"] or ZERO) - (row["moved_d"] or ZERO)
        if row["shared"]:  # the product's receivable debits: its share, with its entries
            income = (day, product, JournalEntry.Type.ACCRUAL.value, INCOME_ACCOUNT)
            cell = cells.setdefault(income, {"d": ZERO, "c": ZERO, "n": 0, "e": 0})
            cell["e"] += row["shared"]
        if row["share"]:
            income = (day, product, JournalEntry.Type.ACCRUAL.value, INCOME_ACCOUNT)
            cells.setdefault(income, {"d": ZERO, "c": ZERO, "n": 0, "e": 0})["c"] += row["share"]
            shares[day] += row["share"]
    # each entry balances, so the shares add up to the income lines; if not, write nothing
    if any(shares.values()):
        raise AttributionMismatch(f"shared accrual income not attributed exactly: {shares}")
    # a product whose loans in the entries were all non-accrual has a share of nothing: no
    # row (no line of its is there either), as the reports' live path
    return {key: cell for key, cell in cells.items() if cell["n"] or cell["d"] or cell["c"]}


def unwritten_spans(date_from: date | None, date_to: date) -> list[Span]:
    """The runs of business dates from `date_from` (None: the beginning) to `date_to` whose
    totals are not written: read these from the lines. One query."""
    days = DailyTotalsDay.objects.filter(business_date__lte=date_to)
    if date_from is not None:
        days = days.filter(business_date__gte=date_from)
    spans: list[Span] = []
    start = date_from
    for day in (
        using_replica(days).order_by("business_date").values_list("business_date", flat=True)
    ):
        if start is None or day > start:
            spans.append((start, day - ONE_DAY))
        start = day + ONE_DAY
    if start is None or start <= date_to:
        spans.append((start, date_to))
    return spans


def spans_q(field: str, spans: list[Span]) -> Q:
    """`field` (a business date) in one of `spans`. With no span a condition that matches
    nothing but is still run, so a report's query count does not depend on the data."""
    if not spans:
        return Q(**{f"{field}__lt": date.min})
    q = Q()
    for first, last in spans:
        span = Q(**{f"{field}__lte": last})
        if first is not None:
            span &= Q(**{f"{field}__gte": first})
        q |= span
    return q
