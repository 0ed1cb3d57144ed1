"""Collections' domain events for webhooks (issue 12), written to the outbox
(`lendcore.webhooks`) in the transaction of the change they report.

Every collections change already writes a row of the case's history (`CaseEvent`); an
event is that row as integrators see it, so `EVENTS` is the one table of both paths:

- a service passes the history row it just saved to `case_event_publish` (one INSERT);
- close of business, set-based, calls `cob_events_publish` once its statements ran: one
  `INSERT ... SELECT` of the history rows the run wrote, in their order. The history rows
  are written exactly once per business date (see `collections_app.cob`), so the events are
  too: closing a day again writes neither.

Each payload is `case_id`, `loan_id`, `business_date` and the type's fields (below), read
from the history row's data (a field it lacks is null).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.db import connection

from lendcore.webhooks.outbox import (
    OUTBOX_TABLE,
    OUTBOX_UID_SQL,
    delivery_kick_on_commit,
    event_emit,
)

from .models import CaseEvent, ChargeOffRecommendation, CollectionCase, HardshipPlan

K = CaseEvent.Kind
Plan = HardshipPlan.Status
Rec = ChargeOffRecommendation.Status


@dataclass(frozen=True)
class EventSpec:
    kinds: tuple[str, ...]  # the history rows it is made of
    to: str | None  # and, for a status change (hardship, charge-off), the new status
    fields: tuple[tuple[str, str], ...]  # (payload key, the history row's data key)
    cob: bool = False  # close of business writes it (set-based)


_PLAN = (("plan_id", "plan"), ("reason", "reason"))
_PLAN_ENDED = (("plan_id", "plan"), ("dpd", "dpd"), ("loan_status", "loan_status"))
_PROMISE_SETTLED = (
    ("promise_id", "promise_id"),
    ("promise_key", "promise"),
    ("sequence", "sequence"),
    ("due_date", "due_date"),
)
_RECOMMENDATION = (("recommendation_id", "recommendation"), ("reason", "reason"))

EVENTS: dict[str, EventSpec] = {
    "collection_case.opened": EventSpec(
        (K.OPENED,), None, (("dpd", "dpd"), ("bucket", "bucket")), cob=True
    ),
    "collection_case.cured": EventSpec((K.CURED,), None, (("loan_status", "loan_status"),), True),
    "collection_case.closed": EventSpec((K.CLOSED,), None, (("loan_status", "loan_status"),), True),
    "collection_case.assigned": EventSpec(
        (K.ASSIGNED, K.REASSIGNED),
        None,
        (("assignee_id", "to"), ("previous_assignee_id", "from")),
        cob=True,
    ),
    "promise_to_pay.made": EventSpec(
        (K.PROMISE,),
        None,
        (("promise_key", "promise"), ("instalments", "instalments"), ("total", "total")),
    ),
    "promise_to_pay.kept": EventSpec((K.PROMISE_KEPT,), None, _PROMISE_SETTLED, cob=True),
    "promise_to_pay.broken": EventSpec((K.PROMISE_BROKEN,), None, _PROMISE_SETTLED, cob=True),
    "hardship_plan.requested": EventSpec(
        (K.HARDSHIP,),
        Plan.REQUESTED,
        (*_PLAN, ("kind", "kind"), ("months", "months"), ("channel", "channel")),
    ),
    "hardship_plan.approved": EventSpec((K.HARDSHIP,), Plan.ACTIVE, _PLAN),
    "hardship_plan.rejected": EventSpec((K.HARDSHIP,), Plan.REJECTED, _PLAN),
    "hardship_plan.completed": EventSpec((K.HARDSHIP,), Plan.COMPLETED, _PLAN_ENDED, cob=True),
    "hardship_plan.broken": EventSpec((K.HARDSHIP,), Plan.BROKEN, _PLAN_ENDED, cob=True),
    "charge_off_recommendation.made": EventSpec(
        (K.CHARGE_OFF,), Rec.PENDING, (*_RECOMMENDATION, ("dpd", "dpd"))
    ),
    "charge_off_recommendation.approved": EventSpec((K.CHARGE_OFF,), Rec.APPROVED, _RECOMMENDATION),
    "charge_off_recommendation.rejected": EventSpec((K.CHARGE_OFF,), Rec.REJECTED, _RECOMMENDATION),
}


def event_type_of(kind: str, data: dict[str, Any]) -> str | None:
    """The webhook event a history row is, or None (a contact, a bucket change, ...)."""
    for name, spec in EVENTS.items():
        if kind in spec.kinds and (spec.to is None or data.get("to") == spec.to):
            return name
    return None


def _payload(
    spec: EventSpec, *, case_id: int, loan_id: int, on: date, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "loan_id": loan_id,
        "business_date": on.isoformat(),
        **{key: data.get(source) for key, source in spec.fields},
    }


def case_event_publish(event: Any, *, loan_id: int) -> None:
    """The webhook event of a history row (`CaseEvent`) a service just saved for a case of
    loan `loan_id`, in its transaction; a row that is none (a contact, say) writes nothing."""
    name = event_type_of(event.kind, event.data)
    if name is None:
        return
    event_emit(
        type=name,
        loan_id=loan_id,
        data=_payload(
            EVENTS[name],
            case_id=event.case_id,
            loan_id=loan_id,
            on=event.business_date,
            data=event.data,
        ),
    )


# --------------------------------------------------------------------------- close of business


def _json(vendor: str, pairs: list[tuple[str, str]]) -> str:
    build = "jsonb_build_object" if vendor == "postgresql" else "json_object"
    args = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"{build}({args})"


def _data(vendor: str, key: str) -> str:
    """A value of the history row's data, as JSON (null when absent)."""
    if vendor == "postgresql":
        return f"e.data -> '{key}'"
    return f"json_extract(e.data, '$.{key}')"


def _data_text(vendor: str, key: str) -> str:
    if vendor == "postgresql":
        return f"e.data ->> '{key}'"
    return f"json_extract(e.data, '$.{key}')"


def _cob_select(name: str, vendor: str) -> str:
    """The rows of event `name` among `h`, the history rows close of business wrote for the
    scope (`cob_events_sql`)."""
    spec = EVENTS[name]
    day = "to_char(e.business_date, 'YYYY-MM-DD')" if vendor == "postgresql" else "e.business_date"
    payload = _json(
        vendor,
        [("case_id", "e.case_id"), ("loan_id", "e.loan_id"), ("business_date", day)]
        + [(key, _data(vendor, source)) for key, source in spec.fields],
    )
    kinds = ", ".join(f"'{kind}'" for kind in spec.kinds)
    to = f" AND {_data_text(vendor, 'to')} = '{spec.to}'" if spec.to else ""
    return (
        f"SELECT e.id AS history_id, '{name}' AS type, e.loan_id, {payload} AS payload "  # noqa: S608
        f"FROM h e WHERE e.kind IN ({kinds}){to}"
    )


# The history rows close of business wrote for loans [lo, hi] after row `after` (system rows:
# no actor), read once by the key range: the type selects below read only these. (Each used
# to read the history itself, and the planner took the index of actor-less rows, every
# system row the table ever had, for each type in each partition every night.)
_COB_HISTORY = """h AS MATERIALIZED (
    SELECT e.id, e.kind, e.data, e.business_date, e.case_id, c.loan_id
      FROM {event} e JOIN {case} c ON c.id = e.case_id
     WHERE e.id > %(after)s AND COALESCE(e.actor_id, 0) = 0
       AND c.loan_id BETWEEN %(lo)s AND %(hi)s
)"""


@lru_cache(maxsize=2)
def cob_events_sql(vendor: str) -> str:
    """One `INSERT ... SELECT` of every close-of-business event type, in the order of the
    history rows (so each loan's events keep the order of its changes)."""
    uid = OUTBOX_UID_SQL if vendor == "postgresql" else "lower(hex(randomblob(16)))"
    union = " UNION ALL ".join(
        _cob_select(name, vendor) for name, spec in EVENTS.items() if spec.cob
    )
    history = _COB_HISTORY.format(
        event=CaseEvent._meta.db_table, case=CollectionCase._meta.db_table
    )
    return (
        f"WITH {history} "  # noqa: S608 (table names and literals of this module only)
        f"INSERT INTO {OUTBOX_TABLE} (uid, type, loan_id, payload, created_at) "
        f"SELECT {uid}, x.type, x.loan_id, x.payload, %(now)s FROM ({union}) x "
        f"ORDER BY x.history_id"
    )


def cob_events_mark() -> int:
    """The last history row before close of business writes the scope's (`after` for
    `cob_events_publish`)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {CaseEvent._meta.db_table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def cob_events_publish(*, lo: int, hi: int, after: int, now: Any) -> int:
    """The webhook events of the history rows close of business wrote for loans [lo, hi]
    since `after` (`cob_events_mark`), set-based. Returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            cob_events_sql(connection.vendor), {"lo": lo, "hi": hi, "after": after, "now": now}
        )
        written = max(cursor.rowcount, 0)
    if written:
        delivery_kick_on_commit()
    return written
