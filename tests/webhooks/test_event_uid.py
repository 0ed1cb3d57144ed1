"""An event's uid is a UUIDv7 (RFC 9562), time-ordered, whether Python or close of business's
SQL writes it: a night's events append to the uid index instead of writing a page each across
it."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connection

from lendcore.webhooks.models import Event, event_uid
from lendcore.webhooks.outbox import OUTBOX_UID_SQL, event_emit, events_emit_many


def _millis(uid: uuid.UUID) -> int:
    return uid.int >> 80


def test_a_uid_is_a_version_7_uuid_of_the_current_millisecond():
    before = time.time_ns() // 1_000_000
    uid = event_uid()
    after = time.time_ns() // 1_000_000
    assert uid.version == 7
    assert uid.variant == uuid.RFC_4122
    assert before <= _millis(uid) <= after


def test_uids_rise_with_time_and_stay_unique():
    first = [event_uid() for _ in range(2000)]
    time.sleep(0.002)
    later = [event_uid() for _ in range(2000)]
    assert len(set(first + later)) == 4000
    assert max(first) < min(later)  # a later millisecond sorts after


@pytest.mark.django_db
def test_the_outbox_writes_version_7_uids():
    event_emit(type="loan.disbursed", data={"loan_id": 1}, loan_id=1)
    events_emit_many([("loan.disbursed", 2, {"loan_id": 2})])
    assert {e.uid.version for e in Event.objects.all()} == {7}


@pytest.mark.django_db
def test_the_sql_uid_has_the_same_layout():
    if connection.vendor != "postgresql":
        pytest.skip("close of business's set-based SQL runs on PostgreSQL")
    before = time.time_ns() // 1_000_000
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {OUTBOX_UID_SQL} FROM generate_series(1, 1000)")
        uids = [value if isinstance(value, uuid.UUID) else uuid.UUID(value) for (value,) in cursor]
    after = time.time_ns() // 1_000_000
    assert {u.version for u in uids} == {7}
    assert {u.variant for u in uids} == {uuid.RFC_4122}
    assert len(set(uids)) == 1000
    assert all(before - 5 <= _millis(u) <= after + 5 for u in uids)
