"""Step: the statements of loans whose cycle ends on the day, rendered after commit."""

from __future__ import annotations

from django.db import connection
from django.db.models import F, Q, QuerySet

from lendcore.finance.dates import days_in_month
from servicing import effects
from servicing.cob import config
from servicing.effects import task_on_commit
from servicing.models import (
    Loan,
    LoanEvent,
    Statement,
)
from servicing.statements import statement_figures

from .base import Scope, is_postgres, remaining_sql, sql_text


def _cycle_loans(scope: Scope) -> QuerySet[Loan]:
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
            WHERE i.loan_id = c.id AND i.paid_on IS NULL) d
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
                      WHERE i.loan_id = f.id AND i.paid_on IS NULL AND i.due_date = f.next_due
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
    task_on_commit(effects.STATEMENTS_RENDER, statement_ids, **config.aux_task_options())


def statements_orm(scope: Scope) -> int:
    """Portable: the figures of `statements.statement_figures` (grouped queries), bulk
    inserts."""
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
