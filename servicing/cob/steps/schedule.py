"""Steps: the final installment's interest true-up and the installment status transitions."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import F

from lendcore.core.sqlrows import update_many
from lendcore.finance.money import ZERO
from servicing import calculations
from servicing.models import (
    Installment,
    InstallmentStatus,
    Loan,
)

from .accrual import ACCRUED_TEMP
from .base import Scope, is_postgres, remaining_sql, sql_text

TRUE_UP_SQL = """
WITH f AS MATERIALIZED (  -- the final installment of the range's loans past maturity, unpaid
    SELECT i.id, i.schedule_id, i.number, i.interest_due, i.interest_paid, i.cancelled,
           l.interest_balance + COALESCE(a.delta, 0) AS owed
      FROM servicing_loan l
      JOIN servicing_scheduleversion sv ON sv.loan_id = l.id AND sv.is_current
      JOIN servicing_installment i ON i.schedule_id = sv.id
      LEFT JOIN cob_accrued a ON a.loan_id = l.id
     WHERE {scope} AND l.status = 'active' AND l.maturity_date <= %(day)s
       -- calculations.last_billing_installment: the last still billing principal, else the
       -- final one
       AND i.number = COALESCE(
               (SELECT MAX(x.number) FROM servicing_installment x
                 WHERE x.schedule_id = sv.id AND x.principal_due > x.principal_paid),
               (SELECT MAX(x.number) FROM servicing_installment x WHERE x.schedule_id = sv.id))
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
),
z AS (  -- the installments after the loan's last bill no interest (final_interest_due, 0 owed)
    UPDATE servicing_installment i
       SET interest_true_up = i.interest_true_up + i.interest_paid + i.cancelled - i.interest_due,
           interest_due = i.interest_paid + i.cancelled
      FROM f WHERE i.schedule_id = f.schedule_id AND i.number > f.number
       AND i.interest_due <> i.interest_paid + i.cancelled
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM u) + (SELECT COUNT(*) FROM z)
"""


def final_true_up(scope: Scope) -> int:
    """A loan past its maturity still owing: its final installment bills the interest owed
    tonight that no other installment bills (`calculations.final_interest_due`; a payment
    and every other write do the same through `LoanBook.true_up_final_interest`), so what a
    borrower is billed at the end is what closes the loan. The final installment is the
    loan's last still billing principal (`calculations.last_billing_installment`); any after
    it bill no interest. Before maturity the final installment's amount only changes with a
    payment. Returns the installments changed."""
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
        last = calculations.last_billing_installment(
            [i.principal_due - i.principal_paid for i in rows]
        )
        final = rows[last]
        if final.remaining <= 0:
            continue
        others = sum(
            (
                calculations.remaining_interest(
                    interest_due=i.interest_due,
                    interest_paid=i.interest_paid,
                    remaining=i.remaining,
                )
                for i in rows[:last]
            ),
            ZERO,
        )
        for inst in rows[last:]:  # the ones after the loan's last: no interest owed
            interest_due = calculations.final_interest_due(
                interest_paid=inst.interest_paid,
                cancelled=inst.cancelled,
                owed=loans[loan_id] if inst is final else ZERO,
                others=others if inst is final else ZERO,
            )
            if interest_due != inst.interest_due:
                inst.interest_true_up += interest_due - inst.interest_due
                inst.interest_due = interest_due
                changed.append(inst)
    update_many(changed, ["interest_due", "interest_true_up"])
    return len(changed)


TRANSITIONS_SQL = """
WITH open AS MATERIALIZED (  -- the range's unpaid installments by the partial index first
    SELECT i.id, i.loan_id, i.schedule_id, i.due_date, i.status
      FROM servicing_installment i
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.due_date <= %(day)s
       AND i.paid_on IS NULL AND i.status IN ('{upcoming}', '{partially_paid}', '{due}')
),
changed AS (  -- calculations.installment_status of an unpaid installment due by the day; one
              -- that bills nothing (interest-only at no interest, say) is paid on the day
    UPDATE servicing_installment i
       SET status = CASE WHEN {remaining_i} <= 0 THEN '{paid}'
                         WHEN %(day)s - o.due_date > l.late_fee_grace_days THEN '{overdue}'
                         ELSE '{due}' END,
           paid_on = CASE WHEN {remaining_i} <= 0 THEN %(day)s::date END
      FROM open o, servicing_loan l, servicing_scheduleversion sv
     WHERE i.id = o.id AND o.loan_id = l.id AND sv.id = o.schedule_id AND sv.is_current
       AND {scope} AND l.status = 'active'
       AND o.status <> CASE WHEN {remaining_i} <= 0 THEN '{paid}'
                            WHEN %(day)s - o.due_date > l.late_fee_grace_days
                            THEN '{overdue}' ELSE '{due}' END
    RETURNING 1
)
SELECT COUNT(*) FROM changed
"""


def transitions(scope: Scope) -> int:
    """upcoming/partially paid -> due on the due date; -> overdue once the days past the due
    date exceed the loan's grace days (its product's, copied at boarding); -> paid, on the
    day, when it bills nothing (`calculations.installment_status`)."""
    return transitions_sql(scope) if is_postgres() else transitions_orm(scope)


def transitions_sql(scope: Scope) -> int:
    """PostgreSQL: one UPDATE (`TRANSITIONS_SQL`), pinned to `transitions_orm`."""
    where, params = scope.sql("l")
    with connection.cursor() as cursor:
        cursor.execute(
            sql_text(TRANSITIONS_SQL, scope=where, remaining_i=remaining_sql("i")), params
        )
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
    for status, ids in changed.items():  # paid (it bills nothing): paid on the day
        paid_on = scope.day if status == InstallmentStatus.PAID else None
        Installment.objects.filter(pk__in=ids).update(status=status, paid_on=paid_on)
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
