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

A day is written or it is not (`DailyTotalsDay`): the reports read the days not written (the
open business date, a day skipped or never closed, a book from before these totals) from the
lines themselves, so such a day is never counted as zero.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum

from lendcore.core.replica import using_replica
from lendcore.finance.money import ZERO

from .models import DailyTotalsDay, JournalLine, LedgerDayTotal, Payment, PaymentDayTotal

ONE_DAY = timedelta(days=1)
BATCH = 5000

# (first, last) business dates not written; `first` None: from the beginning of the books
Span = tuple[date | None, date]


@transaction.atomic
def daily_totals_write(date_from: date, date_to: date | None = None, *, source: str) -> int:
    """Write the totals of every business date from `date_from` to `date_to` (default: that
    one day) from the journal lines and payments, replacing any written before, and mark
    each date written. Two aggregate queries whatever the range. Returns the rows written."""
    date_to = date_to or date_from
    days = (date_from, date_to)
    LedgerDayTotal.objects.filter(business_date__range=days).delete()
    PaymentDayTotal.objects.filter(business_date__range=days).delete()
    DailyTotalsDay.objects.filter(business_date__range=days).delete()
    ledger = (
        JournalLine.objects.filter(entry__business_date__range=days)
        .values("entry__business_date", "entry__loan__product_code", "entry__entry_type", "account")
        .annotate(
            d=Sum("debit"), c=Sum("credit"), n=Count("id"), e=Count("entry_id", distinct=True)
        )
        .order_by()
    )
    written = len(
        LedgerDayTotal.objects.bulk_create(
            (
                LedgerDayTotal(
                    business_date=row["entry__business_date"],
                    product_code=row["entry__loan__product_code"] or "",
                    entry_type=row["entry__entry_type"],
                    account=row["account"],
                    debit=row["d"] or ZERO,
                    credit=row["c"] or ZERO,
                    lines=row["n"],
                    entries=row["e"],
                )
                for row in ledger
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
