"""Servicing's reports, read from the ledger and the payments (registered in `apps.py` with
`lendcore.core.reports`): the trial balance, the journal, payments received, disbursements
and income. Each is a few aggregate queries, whatever the window's size.

Read from the read replica when one is configured (lendcore.core.replica). Every figure
comes from journal lines or payment rows, never from a cached balance, so a
report for a past window says what the books said then (entries are immutable; a reversal is
an entry of its own, on the date it was made). A day close of business has closed is read
from its daily totals (`servicing.daily_totals`: the sums of that day's lines and payments,
written when it closed); a day not written (the open business date) from its lines: the
same figures, without reading a window's millions of lines.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from lendcore.accounts.roles import Action
from lendcore.core.replica import using_replica
from lendcore.core.reports import ReportColumn, ReportFilters, ReportSpec, ReportTable
from lendcore.finance.money import ZERO, round_money

from .daily_totals import (
    INCOME_ACCOUNT,
    SHARED_ACCRUAL,
    Span,
    accrual_income_share,
    spans_q,
    unwritten_spans,
)
from .models import Account, JournalEntry, JournalLine, LedgerDayTotal, Payment, PaymentDayTotal

# The journal report lists lines up to this many; its totals cover the whole window, and the
# general-ledger export (`GET /api/v1/gl/export/`) streams every line.
JOURNAL_MAX_LINES = 5000
INCOME_ACCOUNTS = (
    (Account.INTEREST_INCOME, "interest_income"),
    (Account.FEE_INCOME, "fee_income"),
    (Account.RECOVERIES, "recoveries"),
)
INCOME_KEYS: dict[str, str] = {str(account): key for account, key in INCOME_ACCOUNTS}


def _lines(filters: ReportFilters) -> QuerySet[JournalLine]:
    """Journal lines of loans of the product asked for (a line's product is its loan's).
    Close of business's shared accrual income line has no loan: read with `_live`, which
    adds the product's share of it (`daily_totals.accrual_income_share`)."""
    lines = using_replica(JournalLine.objects.all())
    if filters.product:
        lines = lines.filter(loan__product_code=filters.product)
    return lines


def _live(lines: QuerySet[JournalLine], filters: ReportFilters, *group: str) -> Any:
    """Debits and credits of `lines` grouped by `group`; with a product, `s`: the product's
    share of the shared accrual income in them (a credit to interest income)."""
    sums = lines.values(*group).annotate(d=Sum("debit"), c=Sum("credit"))
    if filters.product:
        sums = sums.annotate(s=accrual_income_share())
    return sums


def _window(filters: ReportFilters) -> Q:
    return Q(entry__business_date__gte=filters.date_from, entry__business_date__lte=filters.date_to)


def _totals(
    filters: ReportFilters, spans: list[Span], *, balance: bool = False
) -> QuerySet[LedgerDayTotal]:
    """The daily ledger totals of the window's written days (`spans` are the days not
    written, read from the lines instead); a `balance` from the start of the books."""
    totals = using_replica(LedgerDayTotal.objects.filter(business_date__lte=filters.date_to))
    if not balance:
        totals = totals.filter(business_date__gte=filters.date_from)
    if filters.product:
        totals = totals.filter(product_code=filters.product)
    return totals.exclude(spans_q("business_date", spans))


def _debits_credits() -> defaultdict[Any, dict[str, Decimal]]:
    return defaultdict(lambda: {"d": ZERO, "c": ZERO})


def trial_balance(filters: ReportFilters) -> ReportTable:
    """Each account's balance at the end of `date_to`: debits less credits, shown on the
    debit side when positive and on the credit side when negative; the two totals agree
    when the ledger balances."""
    spans = unwritten_spans(None, filters.date_to)
    written = (
        _totals(filters, spans, balance=True)
        .values("account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    live = _live(_lines(filters).filter(spans_q("entry__business_date", spans)), filters, "account")
    sums = _debits_credits()
    share = ZERO
    for row in [*written.order_by(), *live.order_by()]:
        sums[row["account"]]["d"] += row["d"] or ZERO
        sums[row["account"]]["c"] += row["c"] or ZERO
        share += row.get("s") or ZERO
    if share:  # as the totals: no income row for a share of nothing
        sums[INCOME_ACCOUNT]["c"] += share
    rows: list[dict[str, Any]] = []
    for account, sided in sorted(sums.items()):
        net = round_money(sided["d"] - sided["c"])
        rows.append(
            {
                "account": account,
                "account_name": Account(account).label,
                "debit": net if net > 0 else ZERO,
                "credit": -net if net < 0 else ZERO,
            }
        )
    return ReportTable(
        columns=[
            ReportColumn("account", "Account"),
            ReportColumn("account_name", "Name"),
            ReportColumn("debit", "Debit", "money"),
            ReportColumn("credit", "Credit", "money"),
        ],
        rows=rows,
        summary={
            "total_debit": sum((Decimal(r["debit"]) for r in rows), ZERO),
            "total_credit": sum((Decimal(r["credit"]) for r in rows), ZERO),
        },
        chart_label="account",
        chart_values=("debit", "credit"),
    )


def journal(filters: ReportFilters) -> ReportTable:
    """The window's journal lines, entry by entry (the first `JOURNAL_MAX_LINES`), with
    totals over every line of the window. With a product: its loans' lines; close of
    business's shared accrual income line is no loan's, so it is not listed, and the totals
    credit the product's share of it instead (so they balance)."""
    lines = _lines(filters).filter(_window(filters))
    spans = unwritten_spans(filters.date_from, filters.date_to)
    written = _totals(filters, spans).aggregate(d=Sum("debit"), c=Sum("credit"), n=Sum("lines"))
    shares = {"s": accrual_income_share()} if filters.product else {}
    live = lines.filter(spans_q("entry__business_date", spans)).aggregate(
        d=Sum("debit"), c=Sum("credit"), n=Count("id"), **shares
    )
    totals = {
        "d": (written["d"] or ZERO) + (live["d"] or ZERO),
        "c": (written["c"] or ZERO) + (live["c"] or ZERO) + (live.get("s") or ZERO),
        "n": (written["n"] or 0) + live["n"],
    }
    # plain values, not three model instances a line: 5,000 lines are most of the time
    shown = lines.order_by("entry_id", "id").values_list(
        "entry_id",
        "entry__business_date",
        "entry__effective_date",
        "entry__entry_type",
        "loan__loan_number",
        "account",
        "debit",
        "credit",
    )
    rows = [
        {
            "entry_id": entry_id,
            "business_date": business_date,
            "effective_date": effective_date,
            "entry_type": entry_type,
            "loan_number": loan_number or "",
            "account": account,
            "debit": debit,
            "credit": credit,
        }
        for (
            entry_id,
            business_date,
            effective_date,
            entry_type,
            loan_number,
            account,
            debit,
            credit,
        ) in shown[:JOURNAL_MAX_LINES]
    ]
    return ReportTable(
        columns=[
            ReportColumn("entry_id", "Entry", "int"),
            ReportColumn("business_date", "Business date", "date"),
            ReportColumn("effective_date", "Effective", "date"),
            ReportColumn("entry_type", "Type"),
            ReportColumn("loan_number", "Loan"),
            ReportColumn("account", "Account"),
            ReportColumn("debit", "Debit", "money"),
            ReportColumn("credit", "Credit", "money"),
        ],
        rows=rows,
        summary={
            "total_debit": round_money(totals["d"] or ZERO),
            "total_credit": round_money(totals["c"] or ZERO),
            "lines": totals["n"],
            "truncated": totals["n"] > len(rows),
        },
    )


def payments_received(filters: ReportFilters) -> ReportTable:
    """Payments received in the window, by business date received and method: how many and
    how much, and how much of it was later reversed."""
    payments = using_replica(
        Payment.objects.filter(posted_on__gte=filters.date_from, posted_on__lte=filters.date_to)
    )
    totals = using_replica(
        PaymentDayTotal.objects.filter(
            business_date__gte=filters.date_from, business_date__lte=filters.date_to
        )
    )
    if filters.product:
        payments = payments.filter(loan__product_code=filters.product)
        totals = totals.filter(product_code=filters.product)
    spans = unwritten_spans(filters.date_from, filters.date_to)
    by_day: dict[tuple[date, str], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "received": ZERO, "reversed": ZERO}
    )
    written = (
        totals.exclude(spans_q("business_date", spans))
        .values_list("business_date", "method")
        .annotate(n=Sum("payments"), amount=Sum("amount"))
    )
    live = (
        payments.filter(spans_q("posted_on", spans))
        .values_list("posted_on", "method")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    for day, method, n, amount in [*written.order_by(), *live.order_by()]:
        by_day[(day, method)]["n"] += n
        by_day[(day, method)]["received"] += amount
    # what was reversed since changes after the day closed: read from the (few) reversed
    # payments of the window (their own partial index), whether the day is written or not
    reversed_since = (
        payments.filter(status=Payment.Status.REVERSED)
        .values_list("posted_on", "method")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    for day, method, amount in reversed_since:
        by_day[(day, method)]["reversed"] += amount
    rows = [
        {
            "date": day,
            "method": method,
            "payments": row["n"],
            "amount": round_money(row["received"]),
            "reversed": round_money(row["reversed"] or ZERO),
            "net": round_money(row["received"] - (row["reversed"] or ZERO)),
        }
        for (day, method), row in sorted(by_day.items())
    ]
    return ReportTable(
        columns=[
            ReportColumn("date", "Received on", "date"),
            ReportColumn("method", "Method"),
            ReportColumn("payments", "Payments", "int"),
            ReportColumn("amount", "Amount", "money"),
            ReportColumn("reversed", "Reversed since", "money"),
            ReportColumn("net", "Net", "money"),
        ],
        rows=rows,
        summary={
            "payments": sum(r["payments"] for r in rows),
            "total_amount": sum((r["amount"] for r in rows), ZERO),
            "total_net": sum((r["net"] for r in rows), ZERO),
        },
        chart_label="date",
        chart_values=("net",),
    )


def disbursements(filters: ReportFilters) -> ReportTable:
    """Loans disbursed in the window, by business date and product: how many and the
    principal paid out (the disbursement entries' principal lines; every disbursement entry
    debits principal, so a written day's count is its principal row's entries)."""
    spans = unwritten_spans(filters.date_from, filters.date_to)
    written = (
        _totals(filters, spans)
        .filter(entry_type=JournalEntry.Type.DISBURSEMENT, account=Account.PRINCIPAL)
        .values_list("business_date", "product_code")
        .annotate(n=Sum("entries"), amount=Sum("debit"))
    )
    entries = using_replica(
        JournalEntry.objects.filter(
            entry_type=JournalEntry.Type.DISBURSEMENT,
            business_date__gte=filters.date_from,
            business_date__lte=filters.date_to,
        )
    )
    if filters.product:
        entries = entries.filter(loan__product_code=filters.product)
    live = (
        entries.filter(spans_q("business_date", spans))
        .values_list("business_date", "loan__product_code")
        .annotate(
            n=Count("id", distinct=True),
            amount=Sum("lines__debit", filter=Q(lines__account=Account.PRINCIPAL)),
        )
    )
    by_day: dict[tuple[date, str], dict[str, Any]] = defaultdict(lambda: {"n": 0, "amount": ZERO})
    for day, product, n, amount in [*written.order_by(), *live.order_by()]:
        by_day[(day, product)]["n"] += n
        by_day[(day, product)]["amount"] += amount or ZERO
    rows = [
        {
            "date": day,
            "product": product,
            "loans": sums["n"],
            "principal": round_money(sums["amount"]),
        }
        for (day, product), sums in sorted(by_day.items())
    ]
    return ReportTable(
        columns=[
            ReportColumn("date", "Disbursed on", "date"),
            ReportColumn("product", "Product"),
            ReportColumn("loans", "Loans", "int"),
            ReportColumn("principal", "Principal", "money"),
        ],
        rows=rows,
        summary={
            "loans": sum(r["loans"] for r in rows),
            "total_principal": sum((r["principal"] for r in rows), ZERO),
        },
        chart_label="date",
        chart_values=("principal",),
    )


def income(filters: ReportFilters) -> ReportTable:
    """Income recognised in the window, by month: interest, fees and recoveries (each
    account's credits less debits, so a reversal in the month lowers it) and charge-offs."""
    accounts = [a for a, _ in INCOME_ACCOUNTS] + [Account.CHARGE_OFF]
    spans = unwritten_spans(filters.date_from, filters.date_to)
    written = (
        _totals(filters, spans)
        .filter(account__in=accounts)
        .annotate(month=TruncMonth("business_date"))
        .values("month", "account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    shared = Q()  # with a product, its loans' lines in the shared accrual entries: its share
    if filters.product:
        shared = SHARED_ACCRUAL & Q(account__in=[Account.INTEREST, Account.SUSPENSE])
    live = _live(
        _lines(filters)
        .filter(_window(filters) & spans_q("entry__business_date", spans))
        .filter(Q(account__in=accounts) | shared)
        .annotate(month=TruncMonth("entry__business_date")),
        filters,
        "month",
        "account",
    )
    sums = _debits_credits()
    shares: defaultdict[date, Decimal] = defaultdict(Decimal)
    for row in [*written.order_by(), *live.order_by()]:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        if row["account"] in accounts:
            sums[(month, row["account"])]["d"] += row["d"] or ZERO
            sums[(month, row["account"])]["c"] += row["c"] or ZERO
        shares[month] += row.get("s") or ZERO
    for month, share in shares.items():
        if share:  # as the totals: no income row for a share of nothing
            sums[(month, INCOME_ACCOUNT)]["c"] += share
    by_month: dict[date, dict[str, Decimal]] = {}
    for (month, account), sided in sorted(sums.items()):
        amounts = by_month.setdefault(
            month,
            {key: ZERO for key in ("interest_income", "fee_income", "recoveries")}
            | {"charge_offs": ZERO},
        )
        net = round_money(sided["c"] - sided["d"])
        key = INCOME_KEYS.get(account, "charge_offs")
        amounts[key] = -net if key == "charge_offs" else net
    rows: list[dict[str, Any]] = []
    for month, amounts in sorted(by_month.items()):
        total = amounts["interest_income"] + amounts["fee_income"] + amounts["recoveries"]
        rows.append({"month": month.strftime("%Y-%m"), **amounts, "total_income": total})
    return ReportTable(
        columns=[
            ReportColumn("month", "Month"),
            ReportColumn("interest_income", "Interest", "money"),
            ReportColumn("fee_income", "Fees", "money"),
            ReportColumn("recoveries", "Recoveries", "money"),
            ReportColumn("total_income", "Total income", "money"),
            ReportColumn("charge_offs", "Charge-offs", "money"),
        ],
        rows=rows,
        summary={
            key: sum((Decimal(r[key]) for r in rows), ZERO)
            for key in ("interest_income", "fee_income", "recoveries", "total_income")
        },
        chart_label="month",
        chart_values=("interest_income", "fee_income", "recoveries"),
    )


SERVICING_REPORTS = (
    ReportSpec(
        name="trial_balance",
        title="Trial balance",
        description="Every account's balance at the end of a date; debits equal credits.",
        action=Action.EXPORT_GL,
        build=trial_balance,
        balance_as_of=True,
    ),
    ReportSpec(
        name="journal",
        title="Journal",
        description=(
            "The ledger's lines over a window, entry by entry, with their totals; by product,"
            " its loans' lines, totals with its share of the shared accrual income."
        ),
        action=Action.EXPORT_GL,
        build=journal,
        default_days=1,
        max_days=31,
    ),
    ReportSpec(
        name="payments",
        title="Payments received",
        description="Payments by day received and method, with what was reversed since.",
        action=Action.READ_LOAN,
        build=payments_received,
    ),
    ReportSpec(
        name="disbursements",
        title="Disbursements",
        description="Loans paid out by day and product.",
        action=Action.VIEW_REPORTS,
        build=disbursements,
    ),
    ReportSpec(
        name="income",
        title="Income",
        description="Interest, fees and recoveries recognised by month, and charge-offs.",
        action=Action.EXPORT_GL,
        build=income,
        default_days=365,
    ),
)
