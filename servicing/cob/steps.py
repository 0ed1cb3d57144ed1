"""The set-based steps of one day's close for the loans of one scope (an id range).

Each step is one or a few statements over the scope, never a loop loading loan objects:
on PostgreSQL the heavy steps (accrual with its journal entries and lines, installment
transitions, days past due / buckets / non-accrual / close) are raw SQL (INSERT ... SELECT,
UPDATE ... FROM); elsewhere (SQLite: `make run`, local tests) they are ORM bulk operations
per scope. Both produce the same rows.

A scope for day `day` holds the loans with an id in [lo, hi], disbursed by `day`, whose last
closed date is before `day` (a loan never closed counts as closed the day before the run's
date). The caller holds the scope's loan rows locked, in one transaction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from lendcore.core.sqlrows import update_many
from lendcore.finance.daycount import BASES, accrual_day_fraction_parts
from lendcore.finance.money import ACCRUAL_PLACES, MONEY_PLACES, ZERO, round_money
from servicing import calculations
from servicing.models import (
    Account,
    ChargeOffCandidate,
    DelinquencyHistory,
    EntryType,
    Fee,
    Installment,
    InstallmentStatus,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Notification,
    Statement,
)

from . import config

ONE_DAY = timedelta(days=1)

# What the set-based SQL names: account codes, entry types and statuses from the models'
# enums, rounding places from lendcore.finance (PostgreSQL's round(numeric, n) rounds half
# away from zero, which is ROUND_HALF_UP). Each statement is formatted with these once.
SQL_NAMES = {
    "cash": Account.CASH.value,
    "principal_account": Account.PRINCIPAL.value,
    "interest_account": Account.INTEREST.value,
    "fees_account": Account.FEES.value,
    "suspense_account": Account.SUSPENSE.value,
    "income_account": Account.INTEREST_INCOME.value,
    "fee_income_account": Account.FEE_INCOME.value,
    "accrual_type": EntryType.ACCRUAL.value,
    "fee_type": EntryType.FEE.value,
    "fee_waiver_type": EntryType.FEE_WAIVER.value,
    "fee_reversal_type": EntryType.FEE_REVERSAL.value,
    "release_type": EntryType.SUSPENSE_RELEASE.value,
    "late": Fee.Kind.LATE.value,
    "money_places": MONEY_PLACES,
    "accrual_places": ACCRUAL_PLACES,
    "paid": InstallmentStatus.PAID.value,
    "due": InstallmentStatus.DUE.value,
    "overdue": InstallmentStatus.OVERDUE.value,
    "upcoming": InstallmentStatus.UPCOMING.value,
    "partially_paid": InstallmentStatus.PARTIALLY_PAID.value,
}


def sql_text(template: str, **parts: str) -> str:
    """A statement with the shared names (`SQL_NAMES`) and its own parts filled in."""
    return template.format(**SQL_NAMES, **parts)


@dataclass(frozen=True)
class Scope:
    lo: int
    hi: int
    day: date  # the day being closed
    business_date: date  # the run's date (entries' business date)

    @property
    def never_closed_as(self) -> date:
        return self.business_date - ONE_DAY

    def loans(self) -> QuerySet[Loan]:
        unclosed = Q(last_closed_on__lt=self.day)
        if self.never_closed_as < self.day:  # a loan never closed joins on the run's date
            unclosed |= Q(last_closed_on__isnull=True)
        return Loan.objects.filter(
            unclosed, pk__gte=self.lo, pk__lte=self.hi, disbursed_on__lte=self.day
        )

    def installments(self) -> QuerySet[Installment]:
        """Current-schedule installments of the scope's active loans, filtered on the range and
        joined to the loan (not `loan IN (subquery)`, which the planner turns into a loop)."""
        unclosed = Q(loan__last_closed_on__lt=self.day)
        if self.never_closed_as < self.day:
            unclosed |= Q(loan__last_closed_on__isnull=True)
        return Installment.objects.filter(
            unclosed,
            loan_id__gte=self.lo,
            loan_id__lte=self.hi,
            loan__status=Loan.Status.ACTIVE,
            loan__disbursed_on__lte=self.day,
            schedule__is_current=True,
        )

    def sql(self, alias: str = "l") -> tuple[str, dict]:
        where = (
            f"{alias}.id BETWEEN %(lo)s AND %(hi)s AND {alias}.disbursed_on <= %(day)s "
            f"AND COALESCE({alias}.last_closed_on, %(never)s) < %(day)s"
        )
        return where, {
            "lo": self.lo,
            "hi": self.hi,
            "day": self.day,
            "never": self.never_closed_as,
            "bd": self.business_date,
        }


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


class StepClock:
    """Per-step counts and seconds of one scope."""

    def __init__(self) -> None:
        self.stats: dict[str, dict[str, float]] = {}

    def record(self, step: str, count: int, started: float | None) -> None:
        row = self.stats.setdefault(step, {"count": 0, "seconds": 0.0})
        row["count"] += count
        if started is not None:
            row["seconds"] += time.perf_counter() - started

    def merge(self, other: dict[str, dict[str, float]]) -> None:
        for step, row in other.items():
            mine = self.stats.setdefault(step, {"count": 0, "seconds": 0.0})
            mine["count"] += row.get("count", 0)
            mine["seconds"] += row.get("seconds", 0.0)


def close_day(scope: Scope, clock: StepClock) -> int:
    """Steps 2-9 of one day for the scope (autopay, step 1, runs before: it posts payments
    through servicing in their own transactions). Returns the loans closed."""
    started = time.perf_counter()
    count = accrue_sql(scope) if is_postgres() else accrue_orm(scope)
    clock.record("accrual", count, started)

    started = time.perf_counter()
    clock.record("true_up", final_true_up(scope), started)

    started = time.perf_counter()
    clock.record("transitions", transitions(scope), started)

    started = time.perf_counter()
    clock.record("late_fees", late_fees(scope), started)

    started = time.perf_counter()
    clock.record("reminders", reminders(scope), started)

    started = time.perf_counter()
    clock.record("statements", statements(scope), started)

    # Last: it marks the scope's loans closed (and so empties the scope).
    started = time.perf_counter()
    if is_postgres():
        closed, changed, flagged, candidates = delinquency_close_sql(scope)
    else:
        closed, changed, flagged, candidates = delinquency_close_orm(scope)
    clock.record("dpd_buckets", changed, started)
    clock.record("non_accrual", flagged, None)
    clock.record("charge_off_candidates", candidates, None)
    return closed


# --------------------------------------------------------------------------- accrual


def accrue_orm(scope: Scope) -> int:
    """Portable: servicing's `accrue_loans` over the scope's active loans (bulk writes)."""
    from servicing.accrual import accrue_loans

    loans = list(
        scope.loans()
        .filter(status=Loan.Status.ACTIVE, last_accrual_date__lt=scope.day)
        .order_by("pk")
    )
    if not loans:
        return 0
    return accrue_loans(loans, through=scope.day, business_date=scope.business_date)


def day_fractions(first: date, last: date) -> tuple[list, list, list, list]:
    """(basis, day, numerator, denominator) of the year fraction daily accrual charges for
    each day, computed by lendcore.finance (exactly what the Python accrual uses)."""
    bases, days, nums, dens = [], [], [], []
    day = first
    while day <= last:
        for basis in BASES:
            num, den = accrual_day_fraction_parts(day, basis)
            bases.append(basis)
            days.append(day)
            nums.append(num)
            dens.append(den)
        day += ONE_DAY
    return bases, days, nums, dens


# Each loan's days from its last accrual through the day (catch-up: several), or, when
# every loan of the scope accrued through yesterday (a normal night), the day alone: no
# series and no running sums.
ACCRUAL_DAYS = """base AS (
    SELECT l.id AS loan_id, l.loan_number, l.principal_balance, l.annual_rate, l.day_count,
           l.interest_model, l.non_accrual, l.disbursed_on,
           l.accrued_interest_exact AS e0, l.accrued_interest_posted AS p0, gs::date AS day
      FROM servicing_loan l
     CROSS JOIN LATERAL
           generate_series(l.last_accrual_date + 1, %(day)s::date, '1 day'::interval) gs
     WHERE {scope} AND l.status = 'active' AND l.last_accrual_date < %(day)s
),"""
ACCRUAL_ONE_DAY = """base AS (
    SELECT l.id AS loan_id, l.loan_number, l.principal_balance, l.annual_rate, l.day_count,
           l.interest_model, l.non_accrual, l.disbursed_on,
           l.accrued_interest_exact AS e0, l.accrued_interest_posted AS p0, %(day)s::date AS day
      FROM servicing_loan l
     WHERE {scope} AND l.status = 'active' AND l.last_accrual_date < %(day)s
),"""
ACCRUAL_RUNNING = """cum AS (
    SELECT a.*, a.e0 + SUM(a.amount) OVER w AS cum_exact,
           GREATEST(a.p0, round(a.e0 + SUM(a.amount) OVER w, {money_places})) AS cum_posted
      FROM amounts a WINDOW w AS (PARTITION BY a.loan_id ORDER BY a.day)
),
acc AS (
    SELECT c.*, c.cum_posted - COALESCE(
               LAG(c.cum_posted) OVER (PARTITION BY c.loan_id ORDER BY c.day), c.p0) AS posted
      FROM cum c
),"""
ACCRUAL_SINGLE = """cum AS (
    SELECT a.*, a.e0 + a.amount AS cum_exact,
           GREATEST(a.p0, round(a.e0 + a.amount, {money_places})) AS cum_posted
      FROM amounts a
),
acc AS (SELECT c.*, c.cum_posted - c.p0 AS posted FROM cum c),"""

ACCRUAL_SQL = """
WITH {base}
frac AS (
    SELECT * FROM unnest(%(f_basis)s::text[], %(f_day)s::date[], %(f_num)s::bigint[],
                         %(f_den)s::bigint[]) AS f(basis, day, num, den)
),
simple AS (
    SELECT b.*, CASE WHEN b.principal_balance <= 0 THEN 0::numeric
                ELSE round(
                    (b.principal_balance * b.annual_rate * f.num)::numeric(60, 24) / f.den,
                    {accrual_places})
                END AS amount
      FROM base b JOIN frac f ON f.basis = b.day_count AND f.day = b.day
     WHERE b.interest_model = 'daily_simple'
),
sched AS (
    SELECT b.*, CASE WHEN b.principal_balance <= 0 OR p.due_date IS NULL OR p.days <= 0
                     THEN 0::numeric
                WHEN b.day = p.due_date
                     THEN p.interest
                          - round(p.interest::numeric(40, 20) / p.days, {accrual_places})
                            * (p.days - 1)
                ELSE round(p.interest::numeric(40, 20) / p.days, {accrual_places}) END AS amount
      FROM base b
      LEFT JOIN LATERAL (  -- the scheduled interest, as billed before any true-up
            SELECT i.due_date,
                   GREATEST(0, i.interest_due - i.interest_true_up - i.cancelled) AS interest,
                   i.due_date - COALESCE(
                       (SELECT i2.due_date FROM servicing_installment i2
                         WHERE i2.schedule_id = i.schedule_id AND i2.number = i.number - 1),
                       b.disbursed_on) AS days
              FROM servicing_installment i
              JOIN servicing_scheduleversion sv ON sv.id = i.schedule_id AND sv.is_current
             WHERE i.loan_id = b.loan_id AND i.due_date >= b.day
             ORDER BY i.number LIMIT 1
      ) p ON true
     WHERE b.interest_model = 'scheduled'
),
amounts AS (SELECT * FROM simple UNION ALL SELECT * FROM sched),
{acc}
ent AS (
    -- one entry a day for the scope's loans, a line pair per loan (see JournalEntry.loan)
    INSERT INTO servicing_journalentry
           (business_date, effective_date, entry_type, loan_id, reference, memo, created_at)
    SELECT %(bd)s, d.day, '{accrual_type}', NULL, %(reference)s,
           'Interest ' || to_char(d.day, 'YYYY-MM-DD') || ', ' || %(reference)s, now()
      FROM (SELECT DISTINCT a.day FROM acc a WHERE a.posted > 0) d
    RETURNING id, effective_date
),
lin AS (  -- Dr interest receivable per loan; Cr income once for the range; Cr suspense per
          -- (non-accrual) loan, which holds it until the interest is collected or reversed
    INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
    SELECT e.id, a.loan_id, '{interest_account}', a.posted, 0
      FROM acc a JOIN ent e ON e.effective_date = a.day
     WHERE a.posted > 0
    UNION ALL
    SELECT e.id, a.loan_id, '{suspense_account}', 0, a.posted
      FROM acc a JOIN ent e ON e.effective_date = a.day
     WHERE a.posted > 0 AND a.non_accrual
    UNION ALL
    SELECT e.id, NULL, '{income_account}', 0, SUM(a.posted)
      FROM acc a JOIN ent e ON e.effective_date = a.day
     WHERE a.posted > 0 AND NOT a.non_accrual
     GROUP BY e.id
    RETURNING 1
),
ins AS (
    INSERT INTO servicing_interestaccrual (loan_id, date, principal_base, amount_exact,
           cumulative_exact, posted, cumulative_posted, entry_id, reversed, to_suspense)
    SELECT a.loan_id, a.day, a.principal_balance, a.amount, a.cum_exact, a.posted,
           a.cum_posted, CASE WHEN a.posted > 0 THEN e.id END, false, a.non_accrual
      FROM acc a LEFT JOIN ent e ON e.effective_date = a.day
    RETURNING 1
),
tot AS (
    INSERT INTO cob_accrued (loan_id, cum_exact, cum_posted, last_day, delta)
    SELECT DISTINCT ON (a.loan_id) a.loan_id, a.cum_exact, a.cum_posted, a.day, a.cum_posted - a.p0
      FROM acc a ORDER BY a.loan_id, a.day DESC
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM ins), (SELECT COUNT(*) FROM lin), (SELECT COUNT(*) FROM tot)
"""

ACCRUED_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS cob_accrued (
    loan_id bigint PRIMARY KEY, cum_exact numeric, cum_posted numeric, last_day date,
    delta numeric
) ON COMMIT DELETE ROWS
"""


def accrue_sql(scope: Scope) -> int:
    """PostgreSQL: one statement accrues every active loan of the scope through the day,
    writing the accrual rows and one journal entry a day for the scope (a line pair per
    loan); the loans' accrual fields and interest balance are set by the closing UPDATE
    (one row version a day)."""
    where, params = scope.sql("l")
    with connection.cursor() as cursor:
        cursor.execute(ACCRUED_TEMP)
        cursor.execute("DELETE FROM cob_accrued")
        cursor.execute(
            f"SELECT MIN(l.last_accrual_date) FROM servicing_loan l WHERE {where} "  # noqa: S608
            "AND l.status = 'active' AND l.last_accrual_date < %(day)s",
            params,
        )
        first = cursor.fetchone()[0]
        if first is None:
            return 0
        bases, days, nums, dens = day_fractions(first + ONE_DAY, scope.day)
        params.update(
            f_basis=bases,
            f_day=days,
            f_num=nums,
            f_den=dens,
            reference=f"COB loans {scope.lo}-{scope.hi}",
        )
        one_day = first + ONE_DAY == scope.day
        sql = sql_text(
            ACCRUAL_SQL,
            base=(ACCRUAL_ONE_DAY if one_day else ACCRUAL_DAYS).format(scope=where),
            acc=sql_text(ACCRUAL_SINGLE if one_day else ACCRUAL_RUNNING),
        )
        cursor.execute(sql, params)
        rows, _lines, _loans = cursor.fetchone()
    return int(rows)


# --------------------------------------------------------------------------- true-up

TRUE_UP_SQL = """
WITH f AS MATERIALIZED (  -- the final installment of the range's loans past maturity, unpaid
    SELECT i.id, i.schedule_id, i.number, i.interest_due, i.interest_paid, i.cancelled,
           l.interest_balance + COALESCE(a.delta, 0) AS owed
      FROM servicing_loan l
      JOIN servicing_scheduleversion sv ON sv.loan_id = l.id AND sv.is_current
      JOIN servicing_installment i ON i.schedule_id = sv.id
      LEFT JOIN cob_accrued a ON a.loan_id = l.id
     WHERE {scope} AND l.status = 'active' AND l.maturity_date <= %(day)s
       AND i.number = (SELECT MAX(x.number) FROM servicing_installment x
                        WHERE x.schedule_id = sv.id)
       AND {remaining_i} > 0
),
o AS (  -- what the other unpaid installments bill of interest
    SELECT f.id, COALESCE(SUM(GREATEST(LEAST(p.interest_due - p.interest_paid, {remaining_p}), 0))
                          FILTER (WHERE {remaining_p} > 0), 0) AS others
      FROM f LEFT JOIN servicing_installment p
           ON p.schedule_id = f.schedule_id AND p.number < f.number
     GROUP BY f.id
),
n AS (  -- calculations.final_interest_due
    SELECT f.id, f.interest_paid + f.cancelled + GREATEST(f.owed - o.others, 0) AS interest_due
      FROM f JOIN o ON o.id = f.id
),
u AS (
    UPDATE servicing_installment i
       SET interest_true_up = i.interest_true_up + n.interest_due - i.interest_due,
           interest_due = n.interest_due
      FROM n WHERE i.id = n.id AND i.interest_due <> n.interest_due
    RETURNING 1
)
SELECT COUNT(*) FROM u
"""


def final_true_up(scope: Scope) -> int:
    """A loan past its maturity still owing: its final installment bills the interest owed
    tonight that no other installment bills (`calculations.final_interest_due`; a payment
    and every other write do the same through `LoanBook.true_up_final_interest`), so what a
    borrower is billed at the end is what closes the loan. Before maturity the final
    installment's amount only changes with a payment. Returns the installments changed."""
    return final_true_up_sql(scope) if is_postgres() else final_true_up_orm(scope)


def final_true_up_sql(scope: Scope) -> int:
    """PostgreSQL: one statement (`TRUE_UP_SQL`), pinned to `final_true_up_orm`."""
    where, params = scope.sql("l")
    sql = sql_text(
        TRUE_UP_SQL, scope=where, remaining_i=remaining_sql("i"), remaining_p=remaining_sql("p")
    )
    with connection.cursor() as cursor:
        cursor.execute(ACCRUED_TEMP)
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def final_true_up_orm(scope: Scope) -> int:
    """Portable: the loans past maturity, their installments, `calculations` per loan, one
    bulk UPDATE (a small set: loans past maturity still owing)."""
    loans = dict(
        scope.loans()
        .filter(status=Loan.Status.ACTIVE, maturity_date__lte=scope.day)
        .values_list("pk", "interest_balance")
    )
    if not loans:
        return 0
    schedules: dict[int, list[Installment]] = defaultdict(list)
    for inst in Installment.objects.filter(
        loan_id__in=list(loans), schedule__is_current=True
    ).order_by("loan_id", "number"):
        schedules[inst.loan_id].append(inst)
    changed = []
    for loan_id, rows in schedules.items():
        final = rows[-1]
        if final.remaining <= 0:
            continue
        others = sum(
            (
                calculations.remaining_interest(
                    interest_due=i.interest_due,
                    interest_paid=i.interest_paid,
                    remaining=i.remaining,
                )
                for i in rows[:-1]
            ),
            ZERO,
        )
        interest_due = calculations.final_interest_due(
            interest_paid=final.interest_paid,
            cancelled=final.cancelled,
            owed=loans[loan_id],
            others=others,
        )
        if interest_due != final.interest_due:
            final.interest_true_up += interest_due - final.interest_due
            final.interest_due = interest_due
            changed.append(final)
    update_many(changed, ["interest_due", "interest_true_up"])
    return len(changed)


# --------------------------------------------------------------------------- transitions

TRANSITIONS_SQL = """
WITH open AS MATERIALIZED (  -- the range's unpaid installments by the partial index first
    SELECT i.id, i.loan_id, i.schedule_id, i.due_date, i.status
      FROM servicing_installment i
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.due_date <= %(day)s
       AND i.status IN ('{upcoming}', '{partially_paid}', '{due}')
),
changed AS (  -- calculations.installment_status of an unpaid installment due by the day
    UPDATE servicing_installment i
       SET status = CASE WHEN %(day)s - o.due_date > l.late_fee_grace_days THEN '{overdue}'
                         ELSE '{due}' END
      FROM open o, servicing_loan l, servicing_scheduleversion sv
     WHERE i.id = o.id AND o.loan_id = l.id AND sv.id = o.schedule_id AND sv.is_current
       AND {scope} AND l.status = 'active'
       AND o.status <> CASE WHEN %(day)s - o.due_date > l.late_fee_grace_days
                            THEN '{overdue}' ELSE '{due}' END
    RETURNING 1
)
SELECT COUNT(*) FROM changed
"""


def transitions(scope: Scope) -> int:
    """upcoming/partially paid -> due on the due date; -> overdue once the days past the due
    date exceed the loan's grace days (its product's, copied at boarding)."""
    return transitions_sql(scope) if is_postgres() else transitions_orm(scope)


def transitions_sql(scope: Scope) -> int:
    """PostgreSQL: one UPDATE (`TRANSITIONS_SQL`), pinned to `transitions_orm`."""
    where, params = scope.sql("l")
    with connection.cursor() as cursor:
        cursor.execute(sql_text(TRANSITIONS_SQL, scope=where), params)
        return int(cursor.fetchone()[0])


def transitions_orm(scope: Scope) -> int:
    """Portable: `calculations.installment_status` of each unpaid installment due by the day
    (a read of the candidates, one UPDATE per new status)."""
    active = scope.loans().filter(status=Loan.Status.ACTIVE)
    rows = (
        Installment.objects.filter(
            schedule__is_current=True,
            loan_id__gte=scope.lo,
            loan_id__lte=scope.hi,
            loan__in=active,
            status__in=[
                InstallmentStatus.UPCOMING,
                InstallmentStatus.PARTIALLY_PAID,
                InstallmentStatus.DUE,
            ],
            due_date__lte=scope.day,
        )
        .annotate(grace=F("loan__late_fee_grace_days"))
        .only(*REMAINING_FIELDS, "due_date", "status")
    )
    changed: dict[str, list[int]] = defaultdict(list)
    for inst in rows:
        status = calculations.installment_status(
            remaining=inst.remaining,
            total_paid=inst.total_paid,
            due_date=inst.due_date,
            on=scope.day,
            grace_days=inst.grace,
        )
        if status != inst.status:
            changed[status].append(inst.pk)
    for status, ids in changed.items():
        Installment.objects.filter(pk__in=ids).update(status=status)
    return sum(len(ids) for ids in changed.values())


REMAINING_FIELDS = (
    "principal_due",
    "interest_due",
    "fee_due",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "cancelled",
)


# --------------------------------------------------------------------------- dpd, buckets, close


def _bucket_case_sql(expr: str) -> str:
    parts = []
    for code, lo, hi in config.buckets():
        cond = f"{expr} >= {lo}" + (f" AND {expr} <= {hi}" if hi is not None else "")
        parts.append(f"WHEN {cond} THEN '{code}'")
    return "CASE " + " ".join(parts) + " END"


DELINQUENCY_SQL = """
WITH s AS (
    SELECT l.id, l.status, l.loan_number, l.delinquency_bucket AS old_bucket,
           l.non_accrual AS old_na,
           CASE WHEN l.status = 'active' AND l.oldest_unpaid_due_date < %(day)s
                THEN %(day)s - l.oldest_unpaid_due_date ELSE 0 END AS dpd
      FROM servicing_loan l
     WHERE {scope}
),
b AS (SELECT s.*, {bucket} AS bucket FROM s),
u AS (
    UPDATE servicing_loan l
       SET dpd = b.dpd,
           delinquency_bucket = b.bucket,
           -- non-accrual from COB_NON_ACCRUAL_DPD; back to accrual once cured
           -- (COB_NON_ACCRUAL_CURE_DPD, default 0: current again)
           non_accrual = CASE WHEN l.status = 'active' AND b.dpd >= %(na_dpd)s THEN true
                              WHEN l.status = 'active' AND b.dpd <= %(cure_dpd)s THEN false
                              ELSE l.non_accrual END,
           last_closed_on = %(day)s,
           accrued_interest_exact = COALESCE(a.cum_exact, l.accrued_interest_exact),
           accrued_interest_posted = COALESCE(a.cum_posted, l.accrued_interest_posted),
           last_accrual_date = COALESCE(a.last_day, l.last_accrual_date),
           interest_balance = l.interest_balance + COALESCE(a.delta, 0)
      FROM b LEFT JOIN cob_accrued a ON a.loan_id = b.id
     -- the range again on the target: without it the planner joins the whole table
     WHERE l.id = b.id AND l.id BETWEEN %(lo)s AND %(hi)s
    RETURNING l.id, l.status, b.loan_number, b.old_bucket, b.bucket, b.dpd, b.old_na,
              l.non_accrual
),
h AS (
    INSERT INTO servicing_delinquencyhistory
           (loan_id, business_date, from_bucket, to_bucket, dpd, created_at)
    SELECT u.id, %(day)s, u.old_bucket, u.bucket, u.dpd, now() FROM u
     WHERE u.old_bucket <> u.bucket
    ON CONFLICT (loan_id, business_date) DO NOTHING
    RETURNING 1
),
ev AS (
    INSERT INTO servicing_loanevent
           (loan_id, kind, from_status, to_status, reason, data, business_date, created_at)
    SELECT u.id, 'flag', '', '',
           CASE WHEN u.non_accrual
                THEN 'Close of business: ' || u.dpd || ' days past due'
                ELSE 'Close of business: cured, back to accrual' END,
           jsonb_build_object('non_accrual', u.non_accrual, 'dpd', u.dpd), %(day)s, now()
      FROM u WHERE u.non_accrual <> u.old_na
    RETURNING 1
),
lifted AS MATERIALIZED (SELECT u.id, u.loan_number FROM u WHERE u.old_na AND NOT u.non_accrual),
held AS (  -- a loan back to accrual: the interest still in suspense is income now
    SELECT x.id AS loan_id, x.loan_number, s.amount,
           nextval(pg_get_serial_sequence('servicing_journalentry', 'id')) AS entry_id
      FROM lifted x
     CROSS JOIN LATERAL (  -- the loan's suspense lines, by the (loan, account) index
           SELECT SUM(jl.credit - jl.debit) AS amount FROM servicing_journalline jl
            WHERE jl.loan_id = x.id AND jl.account = '{suspense_account}') s
     WHERE s.amount > 0
),
rel AS (
    INSERT INTO servicing_journalentry
           (id, business_date, effective_date, entry_type, loan_id, reference, memo, created_at)
    SELECT held.entry_id, %(bd)s, %(day)s, '{release_type}', held.loan_id, held.loan_number,
           'Back to accrual: suspended interest recognised', now()
      FROM held
    RETURNING 1
),
rel_lines AS (
    INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
    SELECT held.entry_id, held.loan_id, v.account,
           CASE WHEN v.dr THEN held.amount ELSE 0 END, CASE WHEN v.dr THEN 0 ELSE held.amount END
      FROM held CROSS JOIN (VALUES ('{suspense_account}', true), ('{income_account}', false))
           v(account, dr)
    RETURNING 1
),
c AS (
    INSERT INTO servicing_chargeoffcandidate (loan_id, listed_on, dpd, created_at)
    SELECT u.id, %(day)s, u.dpd, now() FROM u
     WHERE u.status = 'active' AND u.dpd >= %(co_dpd)s
    ON CONFLICT (loan_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM u), (SELECT COUNT(*) FROM h), (SELECT COUNT(*) FROM ev),
       (SELECT COUNT(*) FROM c), (SELECT COUNT(*) FROM rel), (SELECT COUNT(*) FROM rel_lines)
"""


def delinquency_close_sql(scope: Scope) -> tuple[int, int, int, int]:
    """PostgreSQL: one UPDATE per scope sets days past due (from the oldest unpaid due date),
    the bucket, non-accrual at COB_NON_ACCRUAL_DPD and back to accrual once cured (releasing
    the interest held in suspense to income), the accrual results and `last_closed_on`;
    bucket changes, flag events and charge-off candidates are INSERT ... SELECT from its
    RETURNING. (closed, bucket changes, non-accrual changes, candidates)"""
    where, params = scope.sql("l")
    params.update(
        na_dpd=config.non_accrual_dpd(),
        cure_dpd=config.non_accrual_cure_dpd(),
        co_dpd=config.charge_off_candidate_dpd(),
    )
    sql = sql_text(DELINQUENCY_SQL, scope=where, bucket=_bucket_case_sql("s.dpd"))
    with connection.cursor() as cursor:
        cursor.execute(ACCRUED_TEMP)
        cursor.execute(sql, params)
        closed, changed, flagged, candidates, _entries, _lines = cursor.fetchone()
        cursor.execute("DELETE FROM cob_accrued")
    return int(closed), int(changed), int(flagged), int(candidates)


def delinquency_close_orm(scope: Scope) -> tuple[int, int, int, int]:
    """Portable: the same as `delinquency_close_sql` with a read of (id, dates, flags) tuples
    and bulk writes (no loan objects loaded)."""
    rows = list(
        scope.loans().values_list(
            "pk", "status", "oldest_unpaid_due_date", "delinquency_bucket", "non_accrual"
        )
    )
    if not rows:
        return 0, 0, 0, 0
    na_dpd, co_dpd = config.non_accrual_dpd(), config.charge_off_candidate_dpd()
    cure_dpd = config.non_accrual_cure_dpd()
    updates, history, events, candidates, lifted = [], [], [], [], []
    for pk, status, oldest, old_bucket, old_na in rows:
        active = status == Loan.Status.ACTIVE
        dpd = (scope.day - oldest).days if active and oldest and oldest < scope.day else 0
        bucket = config.bucket_for(dpd)
        non_accrual = calculations.non_accrual(
            was=old_na, active=active, dpd=dpd, non_accrual_dpd=na_dpd, cure_dpd=cure_dpd
        )
        if old_na and not non_accrual:
            lifted.append(pk)
        updates.append(
            Loan(
                pk=pk,
                dpd=dpd,
                delinquency_bucket=bucket,
                non_accrual=non_accrual,
                last_closed_on=scope.day,
            )
        )
        if bucket != old_bucket:
            history.append(
                DelinquencyHistory(
                    loan_id=pk,
                    business_date=scope.day,
                    from_bucket=old_bucket,
                    to_bucket=bucket,
                    dpd=dpd,
                )
            )
        if non_accrual != old_na:
            events.append(
                LoanEvent(
                    loan_id=pk,
                    kind=LoanEvent.Kind.FLAG,
                    reason=f"Close of business: {dpd} days past due"
                    if non_accrual
                    else "Close of business: cured, back to accrual",
                    data={"non_accrual": non_accrual, "dpd": dpd},
                    business_date=scope.day,
                )
            )
        if active and dpd >= co_dpd:
            candidates.append(ChargeOffCandidate(loan_id=pk, listed_on=scope.day, dpd=dpd))
    Loan.objects.bulk_update(
        updates, ["dpd", "delinquency_bucket", "non_accrual", "last_closed_on"], batch_size=500
    )
    DelinquencyHistory.objects.bulk_create(history, ignore_conflicts=True)
    LoanEvent.objects.bulk_create(events)
    ChargeOffCandidate.objects.bulk_create(candidates, ignore_conflicts=True)
    if lifted:
        _suspense_release_orm(lifted, scope)
    return len(rows), len(history), len(events), len(candidates)


def _suspense_release_orm(loan_ids: list[int], scope: Scope) -> None:
    """Loans back to accrual: the interest they hold in suspense becomes income (an entry of
    each, Dr suspense, Cr interest income)."""
    held = [
        (row["loan_id"], row["loan__loan_number"], row["c"] - row["d"])
        for row in JournalLine.objects.filter(loan_id__in=loan_ids, account=Account.SUSPENSE)
        .values("loan_id", "loan__loan_number")
        .annotate(d=Coalesce(Sum("debit"), ZERO), c=Coalesce(Sum("credit"), ZERO))
        .order_by("loan_id")
    ]
    # Rounded before the test: SQLite sums the lines in floating point (0.820000000000001).
    held = [(pk, number, round_money(amount)) for pk, number, amount in held]
    held = [(pk, number, amount) for pk, number, amount in held if amount > 0]
    if not held:
        return
    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                business_date=scope.business_date,
                effective_date=scope.day,
                entry_type=EntryType.SUSPENSE_RELEASE,
                loan_id=pk,
                reference=number,
                memo="Back to accrual: suspended interest recognised",
            )
            for pk, number, _ in held
        ]
    )
    JournalLine.objects.bulk_create(
        [
            line
            for (pk, _, amount), entry in zip(held, entries, strict=True)
            for line in (
                JournalLine(entry_id=entry.pk, loan_id=pk, account=Account.SUSPENSE, debit=amount),
                JournalLine(
                    entry_id=entry.pk, loan_id=pk, account=Account.INTEREST_INCOME, credit=amount
                ),
            )
        ]
    )


# --------------------------------------------------------------------------- late fees


LATE_FEES_SQL = """
WITH due AS MATERIALIZED (  -- overdue installments of the range whose due date drew no fee
    SELECT i.id, i.loan_id, i.schedule_id, i.number, i.due_date,
           i.principal_due + i.interest_due + i.fee_due AS total_due,
           {remaining_i} AS remaining
      FROM servicing_installment i
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.status = '{overdue}'
       AND i.due_date < %(day)s
       -- one late fee per due date: first the installment's own fee (an index lookup that
       -- settles nearly every row); then, a modification having copied past installments
       -- into a new schedule version, a fee charged under the old one for the same date
       AND (SELECT 1 FROM servicing_fee f
             WHERE f.installment_id = i.id AND f.kind = '{late}' AND f.reversed_on IS NULL
             LIMIT 1) IS NULL
       AND NOT EXISTS (
           SELECT 1 FROM servicing_fee f JOIN servicing_installment fi ON fi.id = f.installment_id
            WHERE f.loan_id = i.loan_id AND f.kind = '{late}' AND f.reversed_on IS NULL
              AND fi.due_date = i.due_date)
),
c AS MATERIALIZED (  -- calculations.late_fee_due and calculations.late_fee_amount
    SELECT d.*, l.loan_number,
           'Installment ' || d.number || ' due ' || to_char(d.due_date, 'YYYY-MM-DD')
               || ' unpaid' AS reason,
           GREATEST(0, LEAST(
               CASE WHEN l.late_fee_kind = '{percent}'
                    THEN round(d.total_due * l.late_fee_amount / 100, {money_places})
                    ELSE round(l.late_fee_amount, {money_places}) END,
               COALESCE(l.late_fee_cap, 'Infinity'::numeric))) AS fee,
           nextval(pg_get_serial_sequence('servicing_journalentry', 'id')) AS entry_id
      FROM due d
      JOIN servicing_loan l ON l.id = d.loan_id
      JOIN servicing_scheduleversion sv ON sv.id = d.schedule_id AND sv.is_current
     CROSS JOIN LATERAL (  -- what this and the earlier installments lack; the oldest unpaid
           SELECT COALESCE(SUM({remaining_p}) FILTER (WHERE {remaining_p} > 0), 0) AS shortfall,
                  MIN(p.number) FILTER (WHERE {remaining_p} > 0) AS oldest
             FROM servicing_installment p
            WHERE p.schedule_id = d.schedule_id AND p.number <= d.number) u
     CROSS JOIN LATERAL (  -- late fees paid since the due date before the oldest unpaid one
           SELECT COALESCE(SUM(pa.late_fees), 0) AS paid
             FROM servicing_paymentapplication pa
            WHERE pa.loan_id = d.loan_id AND NOT pa.reversed
              AND pa.effective_date > COALESCE(
                  (SELECT b.due_date FROM servicing_installment b
                    WHERE b.schedule_id = d.schedule_id AND b.number = u.oldest - 1),
                  l.disbursed_on)
              AND pa.effective_date <= %(day)s) lp
     WHERE {scope} AND l.status = 'active' AND l.late_fee_amount > 0
       AND %(day)s - d.due_date > l.late_fee_grace_days AND d.remaining > 0
       AND u.shortfall > lp.paid
),
ent AS (
    INSERT INTO servicing_journalentry
           (id, business_date, effective_date, entry_type, loan_id, reference, memo, created_at)
    SELECT c.entry_id, %(bd)s, %(day)s, '{fee_type}', c.loan_id, c.loan_number,
           left('late fee: ' || c.reason, 255), now()
      FROM c WHERE c.fee > 0
    RETURNING 1
),
lin AS (
    INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
    SELECT c.entry_id, c.loan_id, v.account, CASE WHEN v.dr THEN c.fee ELSE 0 END,
           CASE WHEN v.dr THEN 0 ELSE c.fee END
      FROM c CROSS JOIN (VALUES ('{fees_account}', true), ('{fee_income_account}', false))
           v(account, dr)
     WHERE c.fee > 0
    RETURNING 1
),
fee AS (
    INSERT INTO servicing_fee (loan_id, kind, amount, paid_amount, waived_amount,
                               reversed_amount, assessed_on, installment_id, reason, entry_id,
                               created_at)
    SELECT c.loan_id, '{late}', c.fee, 0, 0, 0, %(day)s, c.id, left(c.reason, 255), c.entry_id,
           now()
      FROM c WHERE c.fee > 0
    RETURNING id, loan_id, amount, reason
),
ev AS (
    INSERT INTO servicing_loanevent
           (loan_id, kind, from_status, to_status, reason, data, business_date, created_at)
    SELECT fee.loan_id, 'fee', '', '', fee.reason,
           jsonb_build_object('fee', fee.id, 'kind', '{late}', 'amount', fee.amount::text),
           %(bd)s, now()
      FROM fee
    RETURNING 1
),
bal AS (
    UPDATE servicing_loan l SET fees_balance = l.fees_balance + t.total
      FROM (SELECT c.loan_id, SUM(c.fee) AS total FROM c WHERE c.fee > 0 GROUP BY c.loan_id) t
     WHERE l.id = t.loan_id AND l.id BETWEEN %(lo)s AND %(hi)s
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM fee), (SELECT COUNT(*) FROM ent), (SELECT COUNT(*) FROM lin),
       (SELECT COUNT(*) FROM ev), (SELECT COUNT(*) FROM bal)
"""


def remaining_sql(alias: str) -> str:
    """An installment's remaining amount in SQL (`Installment.remaining`)."""
    a = alias
    return (
        f"({a}.principal_due + {a}.interest_due + {a}.fee_due - {a}.principal_paid"
        f" - {a}.interest_paid - {a}.fee_paid - {a}.cancelled)"
    )


def late_fees(scope: Scope) -> int:
    """A late fee per installment due date that draws one (`calculations.late_fee_due`: past
    its grace days, unpaid, not only because an earlier late fee took part of a full
    payment), of the loan's policy (`calculations.late_fee_amount`), once, with its journal
    entry and loan event, and the loans' fee balances. PostgreSQL: one statement; elsewhere
    `fees.late_fees_charge`, which it is pinned to. After `transitions`, every unpaid
    installment past its grace days is `overdue`."""
    if not is_postgres():
        from servicing.fees import late_fees_charge

        return len(
            late_fees_charge(
                installments=scope.installments(), day=scope.day, business_date=scope.business_date
            )
        )
    where, params = scope.sql("l")
    sql = sql_text(
        LATE_FEES_SQL,
        scope=where,
        remaining_i=remaining_sql("i"),
        remaining_p=remaining_sql("p"),
        percent="percent",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


# --------------------------------------------------------------------------- reminders


REMINDERS_SQL = """
WITH due AS MATERIALIZED (  -- the range's unpaid installments due on those days, by index
    SELECT i.id, i.loan_id, i.schedule_id, k.kind
      FROM servicing_installment i
      JOIN unnest(%(dates)s::date[], %(kinds)s::text[]) AS k(due, kind) ON k.due = i.due_date
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.due_date = ANY(%(dates)s::date[])
       AND i.status <> 'paid'
)
INSERT INTO servicing_notification
       (loan_id, installment_id, kind, channel, business_date, recipient, status, error,
        created_at)
SELECT i.loan_id, i.id, i.kind, ch.channel, %(day)s,
       CASE WHEN ch.channel = 'email' THEN b.email ELSE b.phone END, 'queued', '', now()
  FROM due i
  JOIN servicing_loan l ON l.id = i.loan_id
  JOIN servicing_scheduleversion sv ON sv.id = i.schedule_id AND sv.is_current
  JOIN accounts_borrower b ON b.id = l.borrower_id
 CROSS JOIN unnest(%(channels)s::text[]) AS ch(channel)
 WHERE {scope} AND l.status = 'active'
   AND CASE WHEN ch.channel = 'email' THEN b.email <> '' AND NOT b.email_opt_out
            ELSE b.phone <> '' AND NOT b.sms_opt_out END
ON CONFLICT (installment_id, kind, channel) DO NOTHING
RETURNING id
"""


def _reminder_kinds(day: date) -> dict[date, str]:
    kinds = {day + timedelta(days=config.reminder_days_before()): "due_soon"}
    for n in config.overdue_reminder_days():
        kinds[day - timedelta(days=n)] = f"overdue_{n}"
    return kinds


def _reminder_channels() -> list[str]:
    from .notifications import sms_enabled

    return [
        channel
        for channel in config.reminder_channels()
        if channel == "email" or (channel == "sms" and sms_enabled())
    ]


def _reminders_send(ids: list[int]) -> None:
    if ids:
        from servicing.tasks import notifications_send_task

        transaction.on_commit(
            lambda: notifications_send_task.apply_async([ids], **config.aux_task_options())
        )


def reminders(scope: Scope) -> int:
    """Queue reminders: installments due in N days, and overdue on the configured days;
    one per installment, kind and channel (unique), respecting the borrower's opt-outs.
    Sent after commit by `servicing.tasks.notifications_send_task`. PostgreSQL: one
    INSERT ... SELECT; elsewhere a read and a bulk insert."""
    kinds = _reminder_kinds(scope.day)
    if is_postgres():
        where, params = scope.sql("l")
        params.update(dates=list(kinds), kinds=list(kinds.values()), channels=_reminder_channels())
        with connection.cursor() as cursor:
            cursor.execute(REMINDERS_SQL.format(scope=where), params)
            ids = [row[0] for row in cursor.fetchall()]
        _reminders_send(ids)
        return len(ids)
    return reminders_orm(scope, kinds)


def reminders_orm(scope: Scope, kinds: dict[date, str]) -> int:
    from .notifications import sms_enabled

    day = scope.day
    rows = (
        scope.installments()
        .filter(due_date__in=list(kinds))
        .exclude(status=InstallmentStatus.PAID)
        .values_list(
            "pk",
            "loan_id",
            "due_date",
            "loan__borrower__email",
            "loan__borrower__email_opt_out",
            "loan__borrower__phone",
            "loan__borrower__sms_opt_out",
        )
    )
    channels = config.reminder_channels()
    sms = "sms" in channels and sms_enabled()
    notes = []
    for pk, loan_id, due, email, email_out, phone, sms_out in rows:
        kind = kinds[due]
        if "email" in channels and email and not email_out:
            notes.append(
                Notification(
                    loan_id=loan_id,
                    installment_id=pk,
                    kind=kind,
                    channel="email",
                    business_date=day,
                    recipient=email,
                )
            )
        if sms and phone and not sms_out:
            notes.append(
                Notification(
                    loan_id=loan_id,
                    installment_id=pk,
                    kind=kind,
                    channel="sms",
                    business_date=day,
                    recipient=phone,
                )
            )
    if not notes:
        return 0
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(
            business_date=day,
            loan_id__gte=scope.lo,
            loan_id__lte=scope.hi,
            status=Notification.Status.QUEUED,
        ).values_list("pk", flat=True)
    )
    _reminders_send(ids)
    return len(ids)


# --------------------------------------------------------------------------- statements


def _cycle_loans(scope: Scope) -> QuerySet[Loan]:
    from lendcore.finance.dates import days_in_month

    on = scope.day
    cycle = Q(first_due_date__day=on.day)
    if on.day == days_in_month(on.year, on.month):
        cycle |= Q(first_due_date__day__gt=on.day)
    # A paid-off loan gets one last statement: the one whose period takes in the payoff.
    paid_off_since = Q(status=Loan.Status.PAID_OFF) & ~Q(
        statements__period_end__gte=F("events__business_date"),
        events__to_status=Loan.Status.PAID_OFF,
    )
    return (
        scope.loans()
        .filter(cycle, disbursed_on__lt=on)
        .filter(Q(status__in=[Loan.Status.ACTIVE, Loan.Status.CHARGED_OFF]) | paid_off_since)
        .exclude(statements__period_end=on)
        .distinct()
    )


STATEMENTS_SQL = """
WITH c AS MATERIALIZED (  -- the scope's loans on their cycle day, with the period's start
    SELECT l.id,
           COALESCE((SELECT MAX(s.period_end) + 1 FROM servicing_statement s
                      WHERE s.loan_id = l.id AND s.period_end < %(day)s),
                    l.disbursed_on) AS start
      FROM servicing_loan l
     WHERE {scope} AND l.disbursed_on < %(day)s
       AND (EXTRACT(DAY FROM l.first_due_date) = %(dom)s
            OR (%(month_end)s AND EXTRACT(DAY FROM l.first_due_date) > %(dom)s))
       AND (l.status IN ('active', 'charged_off')
            OR (l.status = 'paid_off' AND NOT EXISTS (
                SELECT 1 FROM servicing_statement s JOIN servicing_loanevent e
                    ON e.loan_id = s.loan_id AND e.to_status = 'paid_off'
                 WHERE s.loan_id = l.id AND s.period_end >= e.business_date)))
       -- a scalar lookup by the unique (loan, period end), not an anti-join: statements
       -- written earlier in the run are not in the planner's estimates
       AND (SELECT 1 FROM servicing_statement s
             WHERE s.loan_id = l.id AND s.period_end = %(day)s) IS NULL
),
f AS (  -- per loan by index lookups (LATERAL): a join would scan the whole ledger
    SELECT c.id, c.start, o.opening, o.closing, ia.interest, pe.fees, pa.total,
           d.past_due, d.next_due
      FROM c
     CROSS JOIN LATERAL (  -- principal, interest, fees receivable before the period, at its end
           SELECT SUM(CASE WHEN e.effective_date < c.start THEN jl.debit - jl.credit END)
                      AS opening,
                  SUM(jl.debit - jl.credit) AS closing
             FROM servicing_journalline jl
            CROSS JOIN LATERAL ({entry}) e
            WHERE jl.loan_id = c.id
              AND jl.account IN ('{principal_account}', '{interest_account}', '{fees_account}')
              AND e.effective_date <= %(day)s) o
     CROSS JOIN LATERAL (  -- fees charged: assessed, less waived and reversed (statements.py)
           SELECT SUM(CASE WHEN e.entry_type IN ('{fee_type}', '{fee_waiver_type}',
                                                 '{fee_reversal_type}')
                           THEN jl.debit - jl.credit END) AS fees
             FROM servicing_journalline jl
            CROSS JOIN LATERAL ({entry}) e
            WHERE jl.loan_id = c.id AND jl.account = '{fees_account}'
              AND e.effective_date BETWEEN c.start AND %(day)s) pe
     CROSS JOIN LATERAL (  -- interest charged: the period's live accruals, as posted
           SELECT SUM(a.posted) AS interest FROM servicing_interestaccrual a
            WHERE a.loan_id = c.id AND NOT a.reversed
              AND a.date BETWEEN c.start AND %(day)s) ia
     CROSS JOIN LATERAL (
           SELECT SUM(p.amount) AS total FROM servicing_payment p
            WHERE p.loan_id = c.id AND p.status = 'posted'
              AND p.effective_date BETWEEN c.start AND %(day)s) pa
     CROSS JOIN LATERAL (  -- what `selectors.loans_with_due` annotates
           SELECT SUM(CASE WHEN i.due_date < %(day)s THEN {remaining} END) AS past_due,
                  MIN(CASE WHEN i.due_date >= %(day)s THEN i.due_date END) AS next_due
             FROM servicing_installment i
             JOIN servicing_scheduleversion sv ON sv.id = i.schedule_id AND sv.is_current
            WHERE i.loan_id = c.id AND i.status <> 'paid') d
),
ins AS (
    INSERT INTO servicing_statement
           (loan_id, period_start, period_end, opening_balance, closing_balance, payments_total,
            interest_charged, fees_charged, past_due_amount, next_due_date, next_due_amount,
            pdf, created_at)
    SELECT f.id, f.start, %(day)s, COALESCE(f.opening, 0), COALESCE(f.closing, 0),
           COALESCE(f.total, 0), COALESCE(f.interest, 0), COALESCE(f.fees, 0),
           COALESCE(f.past_due, 0), f.next_due,
           COALESCE((SELECT {remaining} FROM servicing_installment i
                       JOIN servicing_scheduleversion sv ON sv.id = i.schedule_id AND sv.is_current
                      WHERE i.loan_id = f.id AND i.status <> 'paid' AND i.due_date = f.next_due
                      ORDER BY i.number LIMIT 1), 0),
           '', now()
      FROM f
    RETURNING id, loan_id
),
ev AS (
    INSERT INTO servicing_loanevent
           (loan_id, kind, from_status, to_status, reason, data, business_date, created_at)
    SELECT ins.loan_id, 'statement', '', '', '',
           jsonb_build_object('statement', ins.id, 'period_end', %(day_iso)s), %(day)s, now()
      FROM ins
    RETURNING 1
)
SELECT id FROM ins ORDER BY id
"""
# A line's entry by its primary key; OFFSET 0 keeps the planner from turning it into a scan
# of the entries by date (the ledger's lines of a loan are few, its entries of a date many).
LINE_ENTRY_SQL = (
    "SELECT e.effective_date, e.entry_type FROM servicing_journalentry e"
    " WHERE e.id = jl.entry_id OFFSET 0"
)


def statements(scope: Scope) -> int:
    """Statements of the scope's loans whose cycle day is today, with the figures of
    `statement_generate` (ledger by effective date); the PDF and the e-mail follow after
    commit (`servicing.tasks.statements_render_task`). PostgreSQL: one statement."""
    if not is_postgres():
        return statements_orm(scope)
    from lendcore.finance.dates import days_in_month

    on = scope.day
    where, params = scope.sql("l")
    params.update(
        dom=on.day,
        month_end=on.day == days_in_month(on.year, on.month),
        day_iso=on.isoformat(),
    )
    sql = sql_text(STATEMENTS_SQL, scope=where, remaining=remaining_sql("i"), entry=LINE_ENTRY_SQL)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        statement_ids = [row[0] for row in cursor.fetchall()]
    _statements_render(statement_ids)
    return len(statement_ids)


def _statements_render(statement_ids: list[int]) -> None:
    if not statement_ids:
        return
    from servicing.tasks import statements_render_task

    transaction.on_commit(
        lambda: statements_render_task.apply_async([statement_ids], **config.aux_task_options())
    )


def statements_orm(scope: Scope) -> int:
    """Portable: the figures of `statements.statement_figures` (grouped queries), bulk
    inserts."""
    from servicing.statements import statement_figures

    on = scope.day
    loans = list(_cycle_loans(scope).values_list("pk", "disbursed_on"))
    if not loans:
        return 0
    figures = statement_figures(loans=loans, on=on)
    made = Statement.objects.bulk_create(
        [Statement(loan_id=pk, period_end=on, **figures[pk]) for pk, _ in loans]
    )
    LoanEvent.objects.bulk_create(
        [
            LoanEvent(
                loan_id=s.loan_id,
                kind=LoanEvent.Kind.STATEMENT,
                data={"statement": s.pk, "period_end": on.isoformat()},
                business_date=on,
            )
            for s in made
        ]
    )
    _statements_render([s.pk for s in made])
    return len(made)


__all__ = ["InterestAccrual", "Scope", "StepClock", "close_day"]
