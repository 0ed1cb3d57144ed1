"""Close of business, collections' step: open, update and cure the cases of a scope's loans.

Servicing runs it after days past due and buckets (`COB_EXTRA_STEPS` in the settings; the
step is `servicing.cob.steps.day.close_day`'s last), in the scope's transaction, for the
loans of [lo, hi] just closed for `day`. Set-based: a few statements per scope, the same
SQL on PostgreSQL and SQLite (UPDATE ... FROM), no loan loaded into Python.

Exactly once per business date: every statement is idempotent for a day (a case opens only
where the loan has none open, events are written only for a change, the update writes the
same values again, assignment only takes unassigned cases), so closing a day again changes
nothing.
"""

from __future__ import annotations

from datetime import date

from django.apps import apps
from django.db import connection
from django.utils import timezone

from servicing import selectors as servicing_selectors

from . import config
from .models import CaseEvent, CollectionCase
from .priority import priority_sql
from .services.assignment import cases_assign_round_robin
from .workouts_cob import plans_close, recoveries_track


def _names() -> dict[str, str]:
    """Tables and enum values of both apps (servicing's read through the app registry: this
    app imports none of servicing's models)."""
    loan = apps.get_model("servicing", "Loan")
    installment = apps.get_model("servicing", "Installment")
    schedule = apps.get_model("servicing", "ScheduleVersion")
    Status = CollectionCase.Status
    return {
        "case": CollectionCase._meta.db_table,
        "event": CaseEvent._meta.db_table,
        "loan": loan._meta.db_table,
        "installment": installment._meta.db_table,
        "schedule": schedule._meta.db_table,
        "active": loan.Status.ACTIVE.value,
        "paid": installment.Status.PAID.value,
        "open": Status.OPEN.value,
        "cured": Status.CURED.value,
        "closed": Status.CLOSED.value,
        "k_opened": CaseEvent.Kind.OPENED.value,
        "k_cured": CaseEvent.Kind.CURED.value,
        "k_closed": CaseEvent.Kind.CLOSED.value,
        "k_bucket": CaseEvent.Kind.BUCKET_CHANGED.value,
        "k_candidate": CaseEvent.Kind.CHARGE_OFF_CANDIDATE.value,
        "json": "jsonb_build_object" if connection.vendor == "postgresql" else "json_object",
    }


# The scope's loans closed for the day (servicing's close marks them `last_closed_on`).
_SCOPE = "l.id BETWEEN %(lo)s AND %(hi)s AND l.last_closed_on = %(day)s"

# 1. Cases of loans current again (cured) or out of servicing (closed): event, then close.
ENDED_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, CASE WHEN l.status = '{active}' THEN '{k_cured}' ELSE '{k_closed}' END, NULL,
       %(day)s, %(now)s, {json}('loan_status', l.status)
  FROM {case} c JOIN {loan} l ON l.id = c.loan_id
 WHERE {scope} AND c.status = '{open}' AND (l.status <> '{active}' OR l.dpd = 0)
"""
ENDED_SQL = """
UPDATE {case}
   SET status = CASE WHEN l.status = '{active}' THEN '{cured}' ELSE '{closed}' END,
       closed_on = %(day)s,
       outcome = CASE WHEN l.status = '{active}' THEN '{cured}' ELSE l.status END,
       dpd = l.dpd, bucket = l.delinquency_bucket, amount_past_due = 0, priority = 0,
       reviewed_on = %(day)s
  FROM {loan} l
 WHERE l.id = {case}.loan_id AND {case}.loan_id BETWEEN %(lo)s AND %(hi)s
   AND {scope} AND {case}.status = '{open}' AND (l.status <> '{active}' OR l.dpd = 0)
"""

# 2. A case for each active loan at COLLECTIONS_OPEN_DPD or more without an open one.
OPEN_SQL = """
INSERT INTO {case} (loan_id, status, opened_on, closed_on, bucket, assignee_id, priority,
                    amount_past_due, dpd, outcome, reviewed_on, created_at)
SELECT l.id, '{open}', %(day)s, NULL, l.delinquency_bucket, NULL, 0, 0, l.dpd, '',
       %(day)s, %(now)s
  FROM {loan} l
 WHERE {scope} AND l.status = '{active}' AND l.dpd >= %(open_dpd)s
   AND NOT EXISTS (SELECT 1 FROM {case} c WHERE c.loan_id = l.id AND c.status = '{open}')
"""
OPENED_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, '{k_opened}', NULL, %(day)s, %(now)s, {json}('dpd', c.dpd, 'bucket', c.bucket)
  FROM {case} c
 WHERE c.loan_id BETWEEN %(lo)s AND %(hi)s AND c.status = '{open}' AND c.opened_on = %(day)s
   AND NOT EXISTS (SELECT 1 FROM {event} e WHERE e.case_id = c.id AND e.kind = '{k_opened}')
"""

# 3. Open cases follow their loan: bucket changes recorded, then dpd, bucket, amount past
# due (unpaid installments of the current schedule due before the day) and priority.
BUCKET_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, '{k_bucket}', NULL, %(day)s, %(now)s,
       {json}('from', c.bucket, 'to', l.delinquency_bucket, 'dpd', l.dpd)
  FROM {case} c JOIN {loan} l ON l.id = c.loan_id
 WHERE {scope} AND c.status = '{open}' AND c.bucket <> l.delinquency_bucket
"""
UPDATE_SQL = """
WITH due AS (
    SELECT i.loan_id, SUM(i.principal_due + i.interest_due + i.fee_due - i.principal_paid
                          - i.interest_paid - i.fee_paid - i.cancelled) AS amount
      FROM {installment} i
      JOIN {schedule} s ON s.id = i.schedule_id AND s.is_current = %(true)s
      JOIN {case} oc ON oc.loan_id = i.loan_id AND oc.status = '{open}'
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.due_date < %(day)s
       AND i.status <> '{paid}'
     GROUP BY i.loan_id
)
UPDATE {case}
   SET dpd = l.dpd, bucket = l.delinquency_bucket,
       amount_past_due = ROUND(COALESCE(due.amount, 0), 2),
       priority = {priority}, reviewed_on = %(day)s
  FROM {loan} l LEFT JOIN due ON due.loan_id = l.id
 WHERE l.id = {case}.loan_id AND {case}.loan_id BETWEEN %(lo)s AND %(hi)s
   AND {scope} AND {case}.status = '{open}'
"""

# 4. Charge-off candidates: an open case whose loan reached the threshold (servicing's
# COB_CHARGE_OFF_CANDIDATE_DPD, the day servicing lists it) says so once.
CANDIDATE_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, '{k_candidate}', NULL, %(day)s, %(now)s, {json}('dpd', l.dpd)
  FROM {case} c JOIN {loan} l ON l.id = c.loan_id
 WHERE {scope} AND c.status = '{open}' AND l.status = '{active}' AND l.dpd >= %(co_dpd)s
   AND NOT EXISTS (SELECT 1 FROM {event} e WHERE e.case_id = c.id AND e.kind = '{k_candidate}')
"""


def collections_close(lo: int, hi: int, day: date) -> int:
    """Open, update, cure and assign the cases of loans [lo, hi] closed for `day`. Returns
    the cases opened."""
    names = _names()
    params = {
        "lo": lo,
        "hi": hi,
        "day": connection.ops.adapt_datefield_value(day),
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "open_dpd": config.open_dpd(),
        "co_dpd": servicing_selectors.charge_off_candidate_dpd(),
        "true": True,
    }
    amount = "ROUND(COALESCE(due.amount, 0), 2)"
    priority = priority_sql(amount, "l.dpd")
    with connection.cursor() as cursor:
        for template in (ENDED_EVENTS_SQL, ENDED_SQL, OPEN_SQL):
            cursor.execute(template.format(scope=_SCOPE, **names), params)
        opened = cursor.rowcount
        for template in (OPENED_EVENTS_SQL, BUCKET_EVENTS_SQL, UPDATE_SQL, CANDIDATE_EVENTS_SQL):
            cursor.execute(template.format(scope=_SCOPE, priority=priority, **names), params)
    cases_assign_round_robin(
        CollectionCase.objects.filter(loan_id__gte=lo, loan_id__lte=hi), on=day
    )
    plans_close(lo, hi, day)
    recoveries_track(lo, hi, day)
    return max(opened, 0)
