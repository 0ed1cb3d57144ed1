"""Close of business, collections' step: open, update and cure the cases of a scope's loans.

Servicing runs it after days past due and buckets (`COB_EXTRA_STEPS` in the settings; the
step is `servicing.cob.steps.day.close_day`'s last), in the scope's transaction, for the
loans of [lo, hi] just closed for `day`. Set-based: a few statements per scope, the same
SQL on PostgreSQL and SQLite (UPDATE ... FROM), no loan loaded into Python.

Exactly once per business date: every statement is idempotent for a day (a case opens only
where the loan has none open, events are written only for a change, the update writes the
same values again, assignment only takes unassigned cases), so closing a day again changes
nothing. The webhook events (`webhook_events`) are made from the history rows a run wrote:
exactly once per business date as well.
"""

from __future__ import annotations

from datetime import date

from django.apps import apps
from django.db import connection
from django.utils import timezone

from servicing import selectors as servicing_selectors

from . import config
from .models import CaseEvent, CollectionCase, PromiseToPay
from .priority import priority_sql, promise_factor_sql
from .services.assignment import cases_assign_round_robin
from .webhook_events import cob_events_mark, cob_events_publish
from .workouts_cob import plans_close, recoveries_track


def _names() -> dict[str, str]:
    """Tables and enum values of both apps (servicing's read through the app registry: this
    app imports none of servicing's models)."""
    loan = apps.get_model("servicing", "Loan")
    installment = apps.get_model("servicing", "Installment")
    schedule = apps.get_model("servicing", "ScheduleVersion")
    payment = apps.get_model("servicing", "Payment")
    Status = CollectionCase.Status
    return {
        "case": CollectionCase._meta.db_table,
        "event": CaseEvent._meta.db_table,
        "loan": loan._meta.db_table,
        "installment": installment._meta.db_table,
        "schedule": schedule._meta.db_table,
        "payment": payment._meta.db_table,
        "posted": payment.Status.POSTED.value,
        "promise": PromiseToPay._meta.db_table,
        "pending": PromiseToPay.Status.PENDING.value,
        "kept": PromiseToPay.Status.KEPT.value,
        "broken": PromiseToPay.Status.BROKEN.value,
        "k_kept": CaseEvent.Kind.PROMISE_KEPT.value,
        "k_broken": CaseEvent.Kind.PROMISE_BROKEN.value,
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
# The same scope seen from a row `{row}` of this app that names the loan: the range is put on
# the row's `loan_id` only, never on the loan, so the plan reads the few rows of the range by
# their index and looks each loan up by its key. (With the range on the loan as well, the
# planner starts from the loans: their statistics still say yesterday's `last_closed_on`, so
# it expects one loan and then probes the range's 10,000 loans one by one, each statement.)
_ROW_SCOPE = "{row}.loan_id BETWEEN %(lo)s AND %(hi)s AND l.last_closed_on = %(day)s"

# 1. Cases of loans current again (cured) or out of servicing (closed): event, then close.
ENDED_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, CASE WHEN l.status = '{active}' THEN '{k_cured}' ELSE '{k_closed}' END, NULL,
       %(day)s, %(now)s, {json}('loan_status', l.status)
  FROM {case} c JOIN {loan} l ON l.id = c.loan_id
 WHERE {case_scope} AND c.status = '{open}' AND (l.status <> '{active}' OR l.dpd = 0)
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
   AND l.last_closed_on = %(day)s AND {case}.status = '{open}'
   AND (l.status <> '{active}' OR l.dpd = 0)
"""

# 2. A case for each active loan at COLLECTIONS_OPEN_DPD or more without an open one. The
# test is a count by the one-open-case index, not NOT EXISTS: on the first night the cases'
# statistics say the table is empty and the anti-join was planned as a scan of every open case
# for each loan (quadratic over the night's partitions).
OPEN_SQL = """
INSERT INTO {case} (loan_id, status, opened_on, closed_on, bucket, assignee_id, priority,
                    amount_past_due, dpd, outcome, reviewed_on, created_at, follow_up_at,
                    follow_up_channel, follow_up_note, disputed, disputed_on)
SELECT l.id, '{open}', %(day)s, NULL, l.delinquency_bucket, NULL, 0, 0, l.dpd, '',
       %(day)s, %(now)s, NULL, '', '', %(false)s, NULL
  FROM {loan} l
 WHERE {scope} AND l.status = '{active}' AND l.dpd >= %(open_dpd)s
   AND (SELECT COUNT(*) FROM {case} c WHERE c.loan_id = l.id AND c.status = '{open}') = 0
"""
OPENED_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, '{k_opened}', NULL, %(day)s, %(now)s, {json}('dpd', c.dpd, 'bucket', c.bucket)
  FROM {case} c
 WHERE c.loan_id BETWEEN %(lo)s AND %(hi)s AND c.status = '{open}' AND c.opened_on = %(day)s
   AND (SELECT COUNT(*) FROM {event} e WHERE e.case_id = c.id AND e.kind = '{k_opened}') = 0
"""

# 3. Promises due before the day are settled: kept when the loan's posted payments from the
# day the promise was made to its due date reach the promise's instalments so far (this one
# and the earlier ones of the same promise), else broken. `{p}` is the promise row.
PROMISE_PAID = """(SELECT COALESCE(SUM(pay.amount), 0) FROM {payment} pay
   WHERE pay.loan_id = {p}.loan_id AND pay.status = '{posted}'
     AND pay.effective_date >= {p}.promised_on AND pay.effective_date <= {p}.due_date)"""
PROMISE_OWED = """(SELECT SUM(q.amount) FROM {promise} q
   WHERE q.promise_key = {p}.promise_key AND q.sequence <= {p}.sequence)"""
PROMISE_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT p.case_id,
       CASE WHEN ROUND({paid_sum}, 2) >= ROUND({owed_sum}, 2) THEN '{k_kept}' ELSE '{k_broken}' END,
       NULL, %(day)s, %(now)s,
       {json}('promise_id', p.id, 'promise', p.promise_key, 'sequence', p.sequence,
              'due_date', p.due_date)
  FROM {promise} p JOIN {loan} l ON l.id = p.loan_id
 WHERE {promise_scope} AND p.status = '{pending}' AND p.due_date < %(day)s
"""
PROMISE_SETTLE_SQL = """
UPDATE {promise}
   SET status = CASE WHEN ROUND({paid_sum}, 2) >= ROUND({owed_sum}, 2)
                     THEN '{kept}' ELSE '{broken}' END,
       kept_amount = ROUND(CASE
           WHEN {paid_sum} - ({owed_sum} - {promise}.amount) >= {promise}.amount
           THEN {promise}.amount
           WHEN {paid_sum} - ({owed_sum} - {promise}.amount) > 0
           THEN {paid_sum} - ({owed_sum} - {promise}.amount)
           ELSE 0 END, 2),
       settled_on = %(day)s
 WHERE {promise}.loan_id BETWEEN %(lo)s AND %(hi)s AND {promise}.status = '{pending}'
   AND {promise}.due_date < %(day)s
   AND EXISTS (SELECT 1 FROM {loan} l
                WHERE l.id = {promise}.loan_id AND l.last_closed_on = %(day)s)
"""

# 4a. Charge-off candidates: an open case whose loan reached the threshold (servicing's
# COB_CHARGE_OFF_CANDIDATE_DPD, the day servicing lists it) says so once. Run before the cases
# follow their loans, so a case's `dpd` is still yesterday's: only the cases crossing the
# threshold tonight (or opened above it) are looked at, not every old one again.
CANDIDATE_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, '{k_candidate}', NULL, %(day)s, %(now)s, {json}('dpd', l.dpd)
  FROM {case} c JOIN {loan} l ON l.id = c.loan_id
 WHERE {case_scope} AND c.status = '{open}' AND l.status = '{active}' AND l.dpd >= %(co_dpd)s
   AND (c.dpd < %(co_dpd)s OR c.opened_on = %(day)s)
   AND (SELECT COUNT(*) FROM {event} e WHERE e.case_id = c.id AND e.kind = '{k_candidate}') = 0
"""

# 4b. Open cases follow their loan: bucket changes recorded, then dpd, bucket, amount past
# due (unpaid installments of the current schedule due before the day) and priority (with
# the case's promises: lowered while one is pending, raised by broken ones).
BUCKET_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT c.id, '{k_bucket}', NULL, %(day)s, %(now)s,
       {json}('from', c.bucket, 'to', l.delinquency_bucket, 'dpd', l.dpd)
  FROM {case} c JOIN {loan} l ON l.id = c.loan_id
 WHERE {case_scope} AND c.status = '{open}' AND c.bucket <> l.delinquency_bucket
"""
UPDATE_SQL = """
WITH x AS MATERIALIZED (
    -- each open case once, with its loan's amount past due (an index lookup of the loan's
    -- unpaid installments per case) and its promises; materialised so the amount is summed
    -- once, not once for each place the SET below uses it
    SELECT oc.id, l.dpd, l.delinquency_bucket AS bucket,
           ROUND(COALESCE((
               SELECT SUM(i.principal_due + i.interest_due + i.fee_due - i.principal_paid
                          - i.interest_paid - i.fee_paid - i.cancelled)
                 FROM {installment} i
                 JOIN {schedule} s ON s.id = i.schedule_id AND s.is_current = %(true)s
                WHERE i.loan_id = l.id AND i.due_date < %(day)s AND i.status <> '{paid}'
           ), 0), 2) AS amount,
           {pending_count} AS pending, {broken_count} AS broken
      FROM {case} oc JOIN {loan} l ON l.id = oc.loan_id
     WHERE {open_case_scope} AND oc.status = '{open}'
)
UPDATE {case}
   SET dpd = x.dpd, bucket = x.bucket, amount_past_due = x.amount,
       priority = {priority}, reviewed_on = %(day)s
  FROM x
 WHERE {case}.id = x.id
"""


PROMISES_OF_CASE = """(SELECT COUNT(*) FROM {promise} pr
   WHERE pr.case_id = oc.id AND pr.status = '{status}')"""


def collections_close(lo: int, hi: int, day: date) -> int:
    """Open, update, cure and assign the cases of loans [lo, hi] closed for `day`; settle
    the promises due before it; then the webhook events of the history rows written (set-based,
    `webhook_events.cob_events_publish`). Returns the cases opened."""
    names = _names()
    mark = cob_events_mark()
    params = {
        "lo": lo,
        "hi": hi,
        "day": connection.ops.adapt_datefield_value(day),
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "open_dpd": config.open_dpd(),
        "co_dpd": servicing_selectors.charge_off_candidate_dpd(),
        "true": True,
        "false": False,
    }
    scopes = {
        "scope": _SCOPE,
        "case_scope": _ROW_SCOPE.format(row="c"),
        "open_case_scope": _ROW_SCOPE.format(row="oc"),
        "promise_scope": _ROW_SCOPE.format(row="p"),
        "pending_count": PROMISES_OF_CASE.format(status=names["pending"], **names),
        "broken_count": PROMISES_OF_CASE.format(status=names["broken"], **names),
        "priority": priority_sql("x.amount", "x.dpd", promise_factor_sql("x.pending", "x.broken")),
    }
    with connection.cursor() as cursor:
        for template in (ENDED_EVENTS_SQL, ENDED_SQL, OPEN_SQL):
            cursor.execute(template.format(**scopes, **names), params)
        opened = cursor.rowcount
        for template, p in ((PROMISE_EVENTS_SQL, "p"), (PROMISE_SETTLE_SQL, names["promise"])):
            sums = {
                "paid_sum": PROMISE_PAID.format(p=p, **names),
                "owed_sum": PROMISE_OWED.format(p=p, **names),
            }
            cursor.execute(template.format(**scopes, **sums, **names), params)
        for template in (OPENED_EVENTS_SQL, CANDIDATE_EVENTS_SQL, BUCKET_EVENTS_SQL, UPDATE_SQL):
            cursor.execute(template.format(**scopes, **names), params)
    cases_assign_round_robin(
        CollectionCase.objects.filter(loan_id__gte=lo, loan_id__lte=hi), on=day
    )
    plans_close(lo, hi, day)
    recoveries_track(lo, hi, day)
    cob_events_publish(lo=lo, hi=hi, after=mark, now=params["now"])
    return max(opened, 0)
