"""The outbox writer: what services call, inside their transaction, to report a domain event.

`event_emit` is one INSERT (payments are a hot path); a rolled-back change leaves no event.
Set-based SQL (close of business) inserts into `OUTBOX_TABLE` itself with `INSERT ... SELECT`
(see `OUTBOX_INSERT_SQL`); the portable path calls `events_emit_many` (one bulk INSERT).
Delivery is a Celery task (`tasks.webhooks_deliver_task`): run by beat every few seconds and
kicked once the transaction commits when a broker is configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from lendcore.core.broker import publish_or_skip
from lendcore.core.sqlrows import insert_values

from .events import EVENT_TYPES
from .models import Event, event_uid

OUTBOX_TABLE = Event._meta.db_table
# The column list for set-based SQL (PostgreSQL): follow it with
# `SELECT {OUTBOX_UID_SQL}, '<type>', <loan id>, jsonb_build_object(...), now() FROM ...`.
OUTBOX_INSERT_SQL = f"INSERT INTO {OUTBOX_TABLE} (uid, type, loan_id, payload, created_at)"
# `models.event_uid` in SQL (PostgreSQL): a random UUID (version 4) with the milliseconds
# since the epoch over its first 6 bytes and its version bits set to 7.
OUTBOX_UID_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) "
    "FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
)

DELIVER_TASK = "lendcore.webhooks.tasks.webhooks_deliver_task"


def _check(type: str) -> None:
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}: add it to lendcore/webhooks/events.py")


def event_emit(*, type: str, data: Mapping[str, Any], loan_id: int | None = None) -> None:
    """Write the event `type` with `data` (JSON: Decimal and dates become strings) to the
    outbox in the caller's transaction: one INSERT. `loan_id` orders it among its loan's."""
    # a prepared INSERT built once (the ORM's create compiled it on every payment)
    insert_values(*event_values(type=type, data=data, loan_id=loan_id))
    delivery_kick_on_commit()


def event_values(
    *, type: str, data: Mapping[str, Any], loan_id: int | None = None
) -> tuple[type[Event], dict[str, Any]]:
    """The outbox row of `event_emit`, for a caller that writes it with other rows in one
    statement (`sqlrows.insert_together`); it then calls `delivery_kick_on_commit` itself."""
    _check(type)
    return Event, {"uid": event_uid(), "type": type, "loan_id": loan_id, "payload": dict(data)}


def events_emit_many(events: Iterable[tuple[str, int | None, Mapping[str, Any]]]) -> int:
    """(type, loan id, data) each: one bulk INSERT for a set-based step's events."""
    rows = []
    for type, loan_id, data in events:
        _check(type)
        rows.append(Event(uid=event_uid(), type=type, loan_id=loan_id, payload=dict(data)))
    if rows:
        Event.objects.bulk_create(rows, batch_size=1000)
        delivery_kick_on_commit()
    return len(rows)


def delivery_kick_on_commit() -> None:
    """With a broker, ask a worker to deliver once the transaction commits (beat delivers
    anyway every few seconds). Tasks running in-process (tests, `make run`) are not kicked:
    that would post to receivers inside the caller's request."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.WEBHOOK_KICK_ON_COMMIT:
        return
    transaction.on_commit(_kick)


def _kick() -> None:
    # at most one kick a second per process: beat and the running task pick up the rest
    # (the Redis cache fails open: down, it answers False and beat delivers)
    if cache.add("webhooks:kick", 1, timeout=1):
        # the event is in the outbox: with the broker down, beat delivers it once it is back
        publish_or_skip(DELIVER_TASK)
