"""Close of business, collections' step: open, update and cure the cases of a scope's loans.

Servicing runs it after days past due and buckets (`COB_EXTRA_STEPS` in the settings; the
step is `servicing.cob.steps.day.close_day`'s last), in the scope's transaction, for the
loans of [lo, hi] just closed for `day`. Set-based: a few statements per scope, the same
SQL on PostgreSQL and SQLite (UPDATE ... FROM), no loan loaded into Python; PostgreSQL gets
them in two round trips. The scope's late loans and open cases are read once, with their
loans, into a temporary work table that the other statements read; the nightly rewrite of
the open cases touches no index (a HOT update, see `models.CollectionCase`).

Exactly once per business date: every statement is idempotent for a day (a case opens only
where the loan has none open, events are written only for a change, the update writes the
same values again, assignment only takes unassigned cases), so closing a day again changes
nothing. The webhook events (`webhook_events`) are made from the history rows a run wrote:
exactly once per business date as well.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.apps import apps
from django.db import connection
from django.utils import timezone

from servicing import selectors as servicing_selectors

from . import config
from .models import (
    CaseEvent,
    ChargeOffRecommendation,
    CollectionCase,
    HardshipPlan,
    PromiseToPay,
)
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
        "plan": HardshipPlan._meta.db_table,
        "plan_active": HardshipPlan.Status.ACTIVE.value,
        "recommendation": ChargeOffRecommendation._meta.db_table,
        "rec_approved": ChargeOffRecommendation.Status.APPROVED.value,
        "pending": PromiseToPay.Status.PENDING.value,
        "kept": PromiseToPay.Status.KEPT.value,
        "broken": PromiseToPay.Status.BROKEN.value,
        "k_kept": CaseEvent.Kind.PROMISE_KEPT.value,
        "k_broken": CaseEvent.Kind.PROMISE_BROKEN.value,
        "active": loan.Status.ACTIVE.value,
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

# 1. Promises due before the day are settled: kept when the loan's posted payments from the
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

# 2. The scope's late loans and open cases, each read once with its loan's state, amount past
# due and promises, into a temporary work table (one row per loan, `id` its open case) that
# the statements below read instead of joining the loans again each. `{w}` is that table.
WORK_TABLE = "collections_cob_work"
WORK_CREATE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS {w} (
    loan_id bigint PRIMARY KEY, id bigint, opened_on date, old_bucket varchar(16),
    old_dpd integer, loan_status varchar(32), dpd integer, bucket varchar(16),
    product_code varchar(64), amount numeric(24, 2), pending integer, broken integer)
"""
# Emptied at the end of each scope (a scope that fails rolls its rows back): the table lives
# as long as the connection. TRUNCATE swaps its file on PostgreSQL, where a DELETE would leave
# dead rows that no autovacuum visits.
WORK_EMPTY_SQL = {False: "DELETE FROM collections_cob_work", True: "TRUNCATE collections_cob_work"}
_WORK_COLUMNS = """(loan_id, id, opened_on, old_bucket, old_dpd, loan_status, dpd, bucket,
                    product_code, amount, pending, broken)"""
# A row's values from its loan `l` and open case `oc` (if any): the amount past due is the
# loan's unpaid installments due before the day, not of a schedule a modification replaced
# (an index lookup per loan).
_WORK_VALUES = """l.id, oc.id, oc.opened_on, oc.bucket, oc.dpd, l.status, l.dpd,
       l.delinquency_bucket, l.product_code,
       ROUND(COALESCE((
           SELECT SUM(i.principal_due + i.interest_due + i.fee_due - i.principal_paid
                      - i.interest_paid - i.fee_paid - i.cancelled)
             FROM {installment} i
            WHERE i.loan_id = l.id AND i.due_date < %(day)s AND i.paid_on IS NULL
              AND NOT EXISTS (SELECT 1 FROM {schedule} s  -- by the `schedule_superseded` index
                               WHERE s.id = i.schedule_id AND s.is_current = %(false)s)
       ), 0), 2),
       {pending_count}, {broken_count}"""
# The late loans: COLLECTIONS_OPEN_DPD days past due or more means an oldest unpaid due date
# that many days before the day or earlier, so the `loan_id_oldest_unpaid` index gives them
# without reading the range's 10,000 loan rows.
WORK_LATE_SQL = """
INSERT INTO {w} {columns}
SELECT {values}
  FROM {loan} l LEFT JOIN {case} oc ON oc.loan_id = l.id AND oc.status = '{open}'
 WHERE {scope} AND l.oldest_unpaid_due_date <= %(open_before)s
"""
# The other open cases (their loans current again, out of servicing, or fewer days late than
# the opening threshold): the cases not yet in the table are picked first (materialised), so
# only their few loans are looked up.
WORK_OTHER_SQL = """
WITH rest AS MATERIALIZED (
    SELECT oc.id, oc.loan_id, oc.opened_on, oc.bucket, oc.dpd FROM {case} oc
     WHERE oc.loan_id BETWEEN %(lo)s AND %(hi)s AND oc.status = '{open}'
       AND NOT EXISTS (SELECT 1 FROM {w} x WHERE x.loan_id = oc.loan_id)
)
INSERT INTO {w} {columns}
SELECT {values}
  FROM rest oc JOIN {loan} l ON l.id = oc.loan_id
 WHERE l.last_closed_on = %(day)s
"""

# 3. A case for each active late loan without an open one (the unique one-open-case index is
# the backstop), then the table learns the new cases' ids.
OPEN_SQL = """
INSERT INTO {case} (loan_id, status, opened_on, closed_on, bucket, product_code,
                    assignee_id, priority, amount_past_due, dpd, outcome, reviewed_on,
                    created_at, follow_up_at, follow_up_channel, follow_up_note, disputed,
                    disputed_on)
SELECT w.loan_id, '{open}', %(day)s, NULL, w.bucket, w.product_code, NULL, 0, 0, w.dpd, '',
       %(day)s, %(now)s, NULL, '', '', %(false)s, NULL
  FROM {w} w
 WHERE {to_open}
"""
OPENED_SQL = """
UPDATE {w}
   SET id = (SELECT c.id FROM {case} c WHERE c.loan_id = {w}.loan_id AND c.status = '{open}'),
       opened_on = %(day)s, old_bucket = bucket, old_dpd = dpd
 WHERE {to_open_here}
"""
_TO_OPEN = "{w}.id IS NULL AND {w}.loan_status = '{active}' AND {w}.dpd >= %(open_dpd)s"
# The case's loan is current again (cured) or out of servicing (closed); or it goes on.
_ENDED = "(w.id IS NOT NULL AND (w.loan_status <> '{active}' OR w.dpd = 0))"
_GOING_ON = "(w.id IS NOT NULL AND w.loan_status = '{active}' AND w.dpd <> 0)"

# 4. Cases that end: event, then close.
ENDED_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT w.id, CASE WHEN w.loan_status = '{active}' THEN '{k_cured}' ELSE '{k_closed}' END, NULL,
       %(day)s, %(now)s, {json}('loan_status', w.loan_status)
  FROM {w} w
 WHERE {ended}
"""
ENDED_SQL = """
UPDATE {case}
   SET status = CASE WHEN w.loan_status = '{active}' THEN '{cured}' ELSE '{closed}' END,
       closed_on = %(day)s,
       outcome = CASE WHEN w.loan_status = '{active}' THEN '{cured}' ELSE w.loan_status END,
       dpd = w.dpd, bucket = w.bucket, amount_past_due = 0, priority = 0,
       reviewed_on = %(day)s
  FROM {w} w
 WHERE {case}.id = w.id AND {ended}
"""

# 5. History of the cases that go on: opened tonight, charge-off candidates, bucket changes.
OPENED_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT w.id, '{k_opened}', NULL, %(day)s, %(now)s, {json}('dpd', w.old_dpd, 'bucket', w.old_bucket)
  FROM {w} w
 WHERE {going_on} AND w.opened_on = %(day)s
   AND (SELECT COUNT(*) FROM {event} e WHERE e.case_id = w.id AND e.kind = '{k_opened}') = 0
"""
# An open case whose loan reached the threshold (servicing's COB_CHARGE_OFF_CANDIDATE_DPD, the
# day servicing lists it) says so once: only the cases crossing it tonight (by the case's dpd,
# still yesterday's here) or opened above it are looked at, not every old one again.
CANDIDATE_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT w.id, '{k_candidate}', NULL, %(day)s, %(now)s, {json}('dpd', w.dpd)
  FROM {w} w
 WHERE {going_on} AND w.dpd >= %(co_dpd)s
   AND (w.old_dpd < %(co_dpd)s OR w.opened_on = %(day)s)
   AND (SELECT COUNT(*) FROM {event} e WHERE e.case_id = w.id AND e.kind = '{k_candidate}') = 0
"""
BUCKET_EVENTS_SQL = """
INSERT INTO {event} (case_id, kind, actor_id, business_date, at, data)
SELECT w.id, '{k_bucket}', NULL, %(day)s, %(now)s,
       {json}('from', w.old_bucket, 'to', w.bucket, 'dpd', w.dpd)
  FROM {w} w
 WHERE {going_on} AND w.old_bucket <> w.bucket
"""

# 6. The cases that go on follow their loan: dpd, bucket, amount past due and priority (with
# the case's promises: lowered while one is pending, raised by broken ones). None of these
# columns is indexed, so on PostgreSQL the rewrite is a HOT update (migration 0007).
UPDATE_SQL = """
UPDATE {case}
   SET dpd = w.dpd, bucket = w.bucket, amount_past_due = w.amount,
       priority = {priority}, reviewed_on = %(day)s
  FROM {w} w
 WHERE {case}.id = w.id AND {going_on}
"""

# 7. What is left for the Python steps after the statements (each runs only if it has work):
# unassigned open cases, active hardship plans, approved charge-off recommendations.
PENDING_SQL = """
SELECT (SELECT COUNT(*) FROM {case} c
         WHERE c.loan_id BETWEEN %(lo)s AND %(hi)s AND c.status = '{open}'
           AND c.assignee_id IS NULL),
       (SELECT COUNT(*) FROM {plan} h
         WHERE h.loan_id BETWEEN %(lo)s AND %(hi)s AND h.status = '{plan_active}'),
       (SELECT COUNT(*) FROM {recommendation} r
         WHERE r.loan_id BETWEEN %(lo)s AND %(hi)s AND r.status = '{rec_approved}')
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
        "open_before": connection.ops.adapt_datefield_value(
            day - timedelta(days=config.open_dpd())
        ),
        "co_dpd": servicing_selectors.charge_off_candidate_dpd(),
        "false": False,
    }
    active = names["active"]
    scopes = {
        "scope": _SCOPE,
        "promise_scope": _ROW_SCOPE.format(row="p"),
        "pending_count": PROMISES_OF_CASE.format(status=names["pending"], **names),
        "broken_count": PROMISES_OF_CASE.format(status=names["broken"], **names),
        "priority": priority_sql("w.amount", "w.dpd", promise_factor_sql("w.pending", "w.broken")),
        "w": WORK_TABLE,
        "columns": _WORK_COLUMNS,
        "to_open": _TO_OPEN.format(w="w", active=active),
        "to_open_here": _TO_OPEN.format(w=WORK_TABLE, active=active),
        "ended": _ENDED.format(active=active),
        "going_on": _GOING_ON.format(active=active),
    }
    scopes["values"] = _WORK_VALUES.format(**scopes, **names)
    postgres = connection.vendor == "postgresql"
    opening = []  # promises settled, the work table filled, the new cases opened
    for template, p in ((PROMISE_EVENTS_SQL, "p"), (PROMISE_SETTLE_SQL, names["promise"])):
        sums = {
            "paid_sum": PROMISE_PAID.format(p=p, **names),
            "owed_sum": PROMISE_OWED.format(p=p, **names),
        }
        opening.append(template.format(**scopes, **sums, **names))
    opening.append(WORK_CREATE_SQL.format(w=WORK_TABLE))
    opening.extend(
        template.format(**scopes, **names) for template in (WORK_LATE_SQL, WORK_OTHER_SQL, OPEN_SQL)
    )
    following = [  # the cases brought up to date, the table emptied, what is left
        template.format(**scopes, **names)
        for template in (
            OPENED_SQL,
            ENDED_EVENTS_SQL,
            ENDED_SQL,
            OPENED_EVENTS_SQL,
            CANDIDATE_EVENTS_SQL,
            BUCKET_EVENTS_SQL,
            UPDATE_SQL,
        )
    ]
    following.extend((WORK_EMPTY_SQL[postgres], PENDING_SQL.format(**names)))
    with connection.cursor() as cursor:
        for statements in (opening, following):
            if postgres:  # in one round trip (psycopg2 sends them as one query string)
                cursor.execute(";\n".join(statements), params)
            else:  # SQLite runs one statement per call
                for statement in statements:
                    cursor.execute(statement, params)
            if statements is opening:
                opened = cursor.rowcount  # the last statement's: OPEN_SQL
        unassigned, plans, recommendations = cursor.fetchone()
    if unassigned:
        cases_assign_round_robin(
            CollectionCase.objects.filter(loan_id__gte=lo, loan_id__lte=hi), on=day
        )
    if plans:
        plans_close(lo, hi, day)
    if recommendations:
        recoveries_track(lo, hi, day)
    cob_events_publish(lo=lo, hi=hi, after=mark, now=params["now"])
    return max(opened, 0)
