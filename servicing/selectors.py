"""Servicing reads: already shaped querysets and small dataclasses for the API and the UI.

Every read a borrower can reach goes through `loans_visible_to(user)`, which filters by the
borrower; staff see every loan only if their role may read loans (the policy table's
`view_loans`), else none. Loan detail is O(1) in the loan's history: it reads the cached
balances and the schedule (bounded by the term), never the accrual rows or the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from lendcore.core.replica import using_replica
from lendcore.core.sqlrows import execute, sql_date
from lendcore.core.write_batch import Reservation
from lendcore.finance.money import ZERO, round_money

from .accrual import loan_periods, projected_interest
from .cob import config as cob_config
from .engine import LoanBook
from .errors import (
    ErrorCode,
    LoanNotFound,
    LoanStateConflict,
    ServicingNotFound,
    ServicingValidationError,
)
from .filters import LoanFilter
from .loan_access import loan_get_for_write as loan_get_for_write  # callers' name for it
from .loan_access import loan_ref_for_write as loan_ref_for_write
from .loan_access import loan_with_due_get
from .loan_access import loans_visible_to as loans_visible_to
from .models import (
    UNPAID,
    BusinessDate,
    ChargeOff,
    Fee,
    Installment,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Modification,
    Payment,
    PaymentApplication,
    ScheduleVersion,
    Statement,
)
from .payoff import payoff_amount_on, payoff_quote_build

MONEY = DecimalField(max_digits=18, decimal_places=2)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def business_date_get() -> date:
    """The lender's business date; before anyone sets it, the setting or today's date.

    (One SQL statement: every payment reads it, and the ORM's compilation cost more than
    the query.)"""
    with connection.cursor() as cursor:
        execute(cursor, f"SELECT business_date FROM {_table(BusinessDate)} WHERE id = 1", [])  # noqa: S608
        found = cursor.fetchone()
    return business_date_or_default(found[0] if found else None)


def business_date_or_default(stored) -> date:
    """The business date read from its row (None: no row yet): before anyone sets it, the
    setting or today's date."""
    row = sql_date(stored)
    if row is not None:
        return row
    initial = getattr(settings, "SERVICING_INITIAL_BUSINESS_DATE", None)
    if initial:
        return date.fromisoformat(str(initial))
    return timezone.localdate()


def backdate_window_days() -> int:
    return int(getattr(settings, "SERVICING_BACKDATE_WINDOW_DAYS", 30))


def business_date_max_jump_days() -> int:
    """How far an admin may move the business date ahead at once (close of business moves
    it a day at a time)."""
    return int(getattr(settings, "SERVICING_BUSINESS_DATE_MAX_JUMP_DAYS", 1096))


def payoff_horizon_days() -> int:
    return int(getattr(settings, "SERVICING_PAYOFF_QUOTE_MAX_DAYS", 30))


# --------------------------------------------------------------------------- visibility


def loan_get_visible(*, user, loan_id: int) -> Loan:
    """The loan if `user` may see it (else 404), annotated as by `loans_with_due` on the
    business date (`loan_access.loan_with_due_get`: one plain SQL query)."""
    return loan_with_due_get(user=user, loan_id=loan_id, on=business_date_get())


def loan_posting_state(
    *, loan_id: int, effective_date: date, reserve: Reservation | None = None
) -> tuple[bool, date | None]:
    """For a transaction dated `effective_date` on a locked loan, in one query: whether
    something comes after it in the loan's history (a live payment application dated after
    it, or a late fee charged at the close of its date or later, which it may have made
    undue): then it must replay; and the replay floor (the effective date of the last
    applied modification; nothing is posted before it). `reserve`: primary keys drawn in
    the same query, for writes that wait to go out together (`write_batch`)."""
    sql = (
        "SELECT "  # noqa: S608
        f"EXISTS(SELECT 1 FROM {_table(PaymentApplication)} a "
        "WHERE a.loan_id = %s AND a.reversed = %s AND a.effective_date > %s) "
        f"OR EXISTS(SELECT 1 FROM {_table(Fee)} f "
        "WHERE f.loan_id = %s AND f.kind = %s AND f.reversed_on IS NULL "
        "AND f.assessed_on >= %s), "
        f"(SELECT MAX(v.effective_date) FROM {_table(Modification)} m "
        f"JOIN {_table(ScheduleVersion)} v ON v.id = m.to_schedule_id "
        "WHERE m.loan_id = %s AND m.status = %s)"
    )
    if reserve is not None:
        sql += f", {reserve.sql}"
    params: list[int | bool | date | str] = [
        loan_id,
        False,
        effective_date,
        loan_id,
        Fee.Kind.LATE.value,
        effective_date,
        loan_id,
        Modification.Status.APPLIED.value,
    ]
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        later, floor, *ids = cursor.fetchone()
    if reserve is not None:
        reserve.fill(ids)
    return bool(later), sql_date(floor)


def loans_with_due(qs: QuerySet[Loan], *, on: date | None = None) -> QuerySet[Loan]:
    """Annotate `past_due_amount`, `next_installment_due_date/amount` (subqueries, no N+1)."""
    on = on or business_date_get()
    remaining = ExpressionWrapper(
        F("principal_due")
        + F("interest_due")
        + F("fee_due")
        - F("principal_paid")
        - F("interest_paid")
        - F("fee_paid")
        - F("cancelled"),
        output_field=MONEY,
    )
    current = Installment.objects.filter(UNPAID, loan_id=OuterRef("pk"), schedule__is_current=True)
    past_due = (
        current.filter(due_date__lt=on)
        .order_by()
        .values("loan_id")
        .annotate(total=Sum(remaining))
        .values("total")
    )
    upcoming = current.filter(due_date__gte=on).order_by("due_date")
    return qs.annotate(
        past_due_amount=Coalesce(Subquery(past_due, output_field=MONEY), Value(ZERO)),
        next_installment_due_date=Subquery(
            upcoming.values("due_date")[:1], output_field=DateField()
        ),
        next_installment_amount=Coalesce(
            Subquery(upcoming.annotate(r=remaining).values("r")[:1], output_field=MONEY),
            Value(ZERO),
        ),
    )


def loan_dpd(loan: Loan, *, on: date | None = None) -> int:
    on = on or business_date_get()
    if loan.status != Loan.Status.ACTIVE or loan.oldest_unpaid_due_date is None:
        return 0
    return max(0, (on - loan.oldest_unpaid_due_date).days)


def loan_list(
    *, user, filters: Mapping[str, Any] | None = None, on: date | None = None
) -> QuerySet[Loan]:
    """The loans `user` may see, narrowed by `filters` (`servicing.filters.LoanFilter`: one
    meaning for the API and the staff UI), annotated by `loans_with_due`; not ordered (the
    caller orders and pages). Bad filters raise `ServicingValidationError` (400)."""
    on = on or business_date_get()
    filterset = LoanFilter(filters or {}, queryset=loans_visible_to(user), on=on)
    if not filterset.is_valid():
        raise ServicingValidationError.for_fields(
            {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        )
    return loans_with_due(filterset.qs, on=on)


# --------------------------------------------------------------------------- loan summary


@dataclass(frozen=True)
class LoanBalances:
    principal_balance: Decimal
    interest_balance: Decimal
    fees_balance: Decimal
    credit_balance: Decimal
    total_due: Decimal
    payoff_today: Decimal
    past_due_amount: Decimal
    dpd: int
    next_due_date: date | None
    next_due_amount: Decimal

    @property
    def amount_to_cure(self) -> Decimal:
        """What brings a past-due loan current: the past-due installments and the fees."""
        if self.past_due_amount <= 0:
            return ZERO
        return self.past_due_amount + self.fees_balance


def loan_balances(loan: Loan, *, on: date | None = None) -> LoanBalances:
    """The loan page's numbers from cached balances and the schedule annotations.

    `loan` should come from `loans_with_due` (else one extra query).
    """
    on = on or business_date_get()
    if not hasattr(loan, "past_due_amount"):
        loan = loans_with_due(Loan.objects.filter(pk=loan.pk), on=on).get()
    return loan_balances_many([loan], on=on)[loan.pk]


def loan_balances_many(loans: list[Loan], *, on: date | None = None) -> dict[int, LoanBalances]:
    """Balances of many loans (from `loans_with_due`) with one extra query at most."""

    on = on or business_date_get()
    periods = loan_periods([loan for loan in loans if loan.status == Loan.Status.ACTIVE])
    result = {}
    for loan in loans:
        active = loan.status == Loan.Status.ACTIVE
        payoff_today = (
            payoff_amount_on(loan, on, periods=periods.get(loan.pk, [])) if active else ZERO
        )
        past_due = getattr(loan, "past_due_amount", None) or ZERO
        if active and loan.maturity_date < on:
            # Past maturity every installment is due and the final one bills what is owed
            # (trued up): all the principal and the interest accrued through today.
            past_due = (
                loan.principal_balance
                + loan.interest_balance
                + max(projected_interest(loan, on, periods=periods.get(loan.pk, [])), ZERO)
            )
        next_amount = ZERO
        next_date = None
        if active:
            next_date = getattr(loan, "next_installment_due_date", None)
            upcoming = getattr(loan, "next_installment_amount", None) or ZERO
            next_amount = past_due + upcoming + loan.fees_balance
            next_amount = min(next_amount, payoff_today)
        result[loan.pk] = LoanBalances(
            principal_balance=loan.principal_balance,
            interest_balance=loan.interest_balance,
            fees_balance=loan.fees_balance,
            credit_balance=loan.credit_balance,
            total_due=loan.principal_balance + loan.interest_balance + loan.fees_balance,
            payoff_today=payoff_today,
            past_due_amount=past_due if active else ZERO,
            dpd=loan_dpd(loan, on=on),
            next_due_date=next_date,
            next_due_amount=next_amount,
        )
    return result


# --------------------------------------------------------------------------- lists


def loan_schedule(*, loan: Loan, version: int | None = None) -> QuerySet[Installment]:
    """Installments of the current (or a given) schedule version, with paid status."""
    qs = Installment.objects.filter(loan=loan)
    if version is None:
        qs = qs.filter(schedule__is_current=True)
    else:
        qs = qs.filter(schedule__version=version)
    return qs.select_related("schedule").order_by("number")


def loan_schedule_rows(*, loan: Loan, on: date | None = None) -> list[Installment]:
    """The current schedule as of the business date: each installment's status, and the final
    one trued up to what the loan owes by then (past maturity, interest accrues until it is
    paid: what a borrower reads is what closes the loan). Nothing is written."""

    on = on or business_date_get()
    rows = list(loan_schedule(loan=loan))
    if loan.status == Loan.Status.ACTIVE and rows:
        LoanBook(loan=loan, business_date=on, installments=rows).true_up_final_interest(as_of=on)
    for inst in rows:
        inst.status = inst.status_on(on, grace_days=loan.late_fee_grace_days)
    return rows


def loan_schedule_versions(*, loan: Loan) -> QuerySet[ScheduleVersion]:
    return ScheduleVersion.objects.filter(loan=loan).order_by("version")


def loan_payments(*, loan: Loan, external_id: str | None = None) -> QuerySet[Payment]:
    """The loan's payments, newest first; `external_id`: only the one so named."""
    payments = Payment.objects.filter(loan=loan)
    if external_id:
        payments = payments.filter(external_id=external_id)
    return payments.order_by("-effective_date", "-id")


def loan_fees(*, loan: Loan) -> QuerySet[Fee]:
    return Fee.objects.filter(loan=loan).prefetch_related("waivers").order_by("-assessed_on", "-id")


def loan_journal(*, loan: Loan) -> QuerySet[JournalEntry]:
    """The entries with lines of the loan, newest first, each with the loan's lines only:
    close of business posts a day's accrual of many loans as one shared entry."""
    lines = JournalLine.objects.filter(loan=loan)
    return (
        JournalEntry.objects.filter(pk__in=lines.values("entry_id"))
        .prefetch_related(Prefetch("lines", queryset=lines.order_by("id")))
        .order_by("-id")
    )


def loan_timeline(*, loan: Loan) -> QuerySet[LoanEvent]:
    return LoanEvent.objects.filter(loan=loan).select_related("actor").order_by("-id")


def loan_statements(*, loan: Loan) -> QuerySet[Statement]:
    return Statement.objects.filter(loan=loan).order_by("-period_end")


def payment_get_visible(*, user, payment_id: int) -> Payment:
    payment = (
        Payment.objects.filter(pk=payment_id, loan__in=loans_visible_to(user))
        .select_related("loan")
        .first()
    )
    if payment is None:
        raise ServicingNotFound("No such payment.", code=ErrorCode.PAYMENT_NOT_FOUND)
    return payment


def modification_get(*, loan: Loan, modification_id: int) -> Modification:
    """A modification of `loan` (the caller has already checked the loan is visible)."""
    modification = Modification.objects.filter(pk=modification_id, loan=loan).first()
    if modification is None:
        raise ServicingNotFound("No such modification.", code="modification_not_found")
    return modification


def fee_get(*, user, fee_id: int) -> Fee:
    fee = (
        Fee.objects.filter(pk=fee_id, loan__in=loans_visible_to(user))
        .select_related("loan")
        .first()
    )
    if fee is None:
        raise ServicingNotFound("No such fee.", code=ErrorCode.FEE_NOT_FOUND)
    return fee


def statement_get_visible(*, user, statement_id: int) -> Statement:
    statement = (
        Statement.objects.filter(pk=statement_id, loan__in=loans_visible_to(user))
        .select_related("loan")
        .first()
    )
    if statement is None:
        raise ServicingNotFound("No such statement.", code=ErrorCode.STATEMENT_NOT_FOUND)
    return statement


def gl_lines(*, date_from: date, date_to: date) -> QuerySet[JournalLine]:
    """Journal lines whose entry was posted (business date) in the range, for the GL export:
    read from the read replica when one is configured (a heavy read; lendcore.core.replica)."""
    return using_replica(
        JournalLine.objects.filter(
            entry__business_date__gte=date_from, entry__business_date__lte=date_to
        )
        .select_related("entry", "loan")
        .order_by("entry_id", "id")
    )


def payoff_quote(*, loan: Loan, on: date | None = None):
    """What pays the loan off if received by `on` (business date .. +30 days): a PayoffQuote."""

    bd = business_date_get()
    on = on or bd
    horizon = payoff_horizon_days()
    if on < bd:
        raise ServicingValidationError.field(
            "date",
            f"A payoff quote cannot be for a past date (business date {bd}).",
            code=ErrorCode.INVALID_DATE,
        )
    if on > bd + timedelta(days=horizon):
        raise ServicingValidationError.field(
            "date",
            f"A payoff quote can be at most {horizon} days ahead.",
            code=ErrorCode.INVALID_DATE,
        )
    loan = Loan.objects.get(pk=loan.pk)
    if loan.status != Loan.Status.ACTIVE:
        raise LoanStateConflict(
            f"This loan is {loan.get_status_display().lower()}; there is nothing to pay off.",
            code=ErrorCode.LOAN_CLOSED,
        )
    return payoff_quote_build(loan, on)


@dataclass(frozen=True)
class PortfolioSummary:
    business_date: date
    active_loans: int
    principal_outstanding: Decimal
    delinquent_loans: int
    loans_by_bucket: dict[str, int]


def portfolio_summary() -> PortfolioSummary:
    """The staff dashboard's figures: one aggregate query over active loans by bucket (one
    pass over the book: at a million loans each pass is most of the page's time), on the read
    replica when one is configured (a report over the whole book; lendcore.core.replica)."""
    active = using_replica(Loan.objects.filter(status=Loan.Status.ACTIVE))
    by_bucket = list(
        active.values("delinquency_bucket")
        .annotate(n=Count("id"), principal=Sum("principal_balance"))
        .order_by()
    )
    buckets = {row["delinquency_bucket"]: row["n"] for row in by_bucket}
    principal = sum((row["principal"] for row in by_bucket), Decimal("0.00"))
    return PortfolioSummary(
        business_date=business_date_get(),
        active_loans=sum(buckets.values()),
        principal_outstanding=round_money(principal),
        delinquent_loans=sum(n for bucket, n in buckets.items() if bucket != "current"),
        loans_by_bucket=buckets,
    )


# --------------------------------------------------------------------------- collections


def loan_get(*, loan_id: int) -> Loan:
    """The loan by id, for another app's service that has already checked who asks (404)."""
    loan = Loan.objects.filter(pk=loan_id).first()
    if loan is None:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    return loan


def charge_off_get(*, charge_off_id: int | None) -> ChargeOff | None:
    if charge_off_id is None:
        return None
    return ChargeOff.objects.filter(pk=charge_off_id).first()


def loan_recoveries(*, loan_ids: list[int]) -> dict[int, Decimal]:
    """What live payments after a charge-off (recoveries) brought in, by loan: one query."""
    rows = (
        Payment.objects.filter(loan_id__in=loan_ids, is_recovery=True, status=Payment.Status.POSTED)
        .values("loan_id")
        .annotate(total=Coalesce(Sum("amount"), ZERO))
        .order_by()
    )
    # rounded: SQLite sums in floating point
    return {row["loan_id"]: round_money(row["total"]) for row in rows}


def loan_recovery_payments(*, loan_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(loan_id=loan_id, is_recovery=True).order_by(
        "effective_date", "pk"
    )


def loan_recovered(*, loan_id: int) -> Decimal:
    return loan_recoveries(loan_ids=[loan_id]).get(loan_id, ZERO)


def charge_off_candidate_dpd() -> int:
    """Days past due at which close of business lists a loan as a charge-off candidate."""
    return cob_config.charge_off_candidate_dpd()


def delinquency_bucket_codes() -> list[str]:
    """The configured delinquency buckets' codes past due (every one but the first, the
    current loans'), in order of days past due (COB_DELINQUENCY_BUCKETS)."""
    return [code for code, _lo, _hi in cob_config.buckets()[1:]]


def loan_external_ids_existing(external_ids: list[str]) -> set[str]:
    """Which of these external ids a loan already has (any integrator's: a migration)."""
    qs = Loan.objects.filter(external_id__in=external_ids)
    return {ext for ext in qs.values_list("external_id", flat=True) if ext is not None}


def loan_external_ids_under_prefix(prefix: str) -> set[str]:
    """The external ids of the loans boarded under `prefix` (an import's own, when resumed)."""
    qs = Loan.objects.filter(application_ref__startswith=prefix)
    return {ext for ext in qs.values_list("external_id", flat=True) if ext is not None}


def application_refs_with_prefix(prefix: str) -> set[str]:
    """The application refs of the loans boarded under `prefix` (a resumed import)."""
    qs = Loan.objects.filter(application_ref__startswith=prefix)
    return set(qs.values_list("application_ref", flat=True))


# Distinct product codes by the product index, one probe each (a loose index scan).
LOAN_PRODUCTS_SQL = """
WITH RECURSIVE p(code) AS (
    SELECT MIN(product_code) FROM servicing_loan UNION ALL
    SELECT (SELECT MIN(l.product_code) FROM servicing_loan l WHERE l.product_code > p.code)
      FROM p WHERE p.code IS NOT NULL)
SELECT p.code, (SELECT l.product_name FROM servicing_loan l WHERE l.product_code = p.code
                 ORDER BY l.id LIMIT 1) FROM p WHERE p.code IS NOT NULL ORDER BY p.code"""


def loan_products() -> list[tuple[str, str]]:
    """The products of the book's loans, as (code, name): a few probes, however many loans."""
    with connection.cursor() as cursor:
        cursor.execute(LOAN_PRODUCTS_SQL)
        return [(code, name or code) for code, name in cursor.fetchall()]
