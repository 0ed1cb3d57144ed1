"""Step: accrue interest through the day (set-based SQL, or the ORM path)."""

from __future__ import annotations

from datetime import date

from django.db import connection

from lendcore.finance.daycount import BASES, accrual_day_fraction_parts
from servicing.accrual import accrue_loans
from servicing.models import (
    Loan,
)

from .base import ONE_DAY, Scope, sql_text


def accrue_orm(scope: Scope) -> int:
    """Portable: servicing's `accrue_loans` over the scope's active loans (bulk writes)."""
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
             -- by the (loan, due date) index, stopping at the first current row: a schedule's
             -- due dates rise with its numbers, so this is its first installment due by then
             -- (ORDER BY number alone sorted every later installment, each joined first)
             ORDER BY i.due_date, i.number LIMIT 1
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
    SELECT {last_day} a.loan_id, a.cum_exact, a.cum_posted, a.day, a.cum_posted - a.p0
      FROM acc a {last_day_order}
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM ins), (SELECT COUNT(*) FROM lin), (SELECT COUNT(*) FROM tot)
"""


# No index: the closing UPDATE reads it once, by a hash join (a primary key cost 10,000
# probes a partition).
ACCRUED_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS cob_accrued (
    loan_id bigint, cum_exact numeric, cum_posted numeric, last_day date,
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
        cursor.execute("DELETE FROM cob_accrued")  # normally empty: the close empties it
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
            # each loan's last day: its only row on a normal night (no sort of the scope)
            last_day="" if one_day else "DISTINCT ON (a.loan_id)",
            last_day_order="" if one_day else "ORDER BY a.loan_id, a.day DESC",
        )
        cursor.execute(sql, params)
        rows, _lines, _loans = cursor.fetchone()
    return int(rows)
