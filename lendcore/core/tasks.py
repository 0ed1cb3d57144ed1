"""Housekeeping tasks of the core (scheduled by django-celery-beat, see the migrations)."""

from __future__ import annotations

from celery import shared_task

from lendcore.core.broker import pending_tasks_send
from lendcore.core.idempotency import keys_expired_delete
from lendcore.core.receipts import receipts_expired_delete


@shared_task(name="lendcore.core.tasks.idempotency_keys_purge")
def idempotency_keys_purge() -> int:
    """Deletes the Idempotency-Key records and task receipts past their lifetime (idempotent:
    run it any time)."""
    return keys_expired_delete() + receipts_expired_delete()


@shared_task(name="lendcore.core.tasks.pending_tasks_send")
def pending_tasks_send_task() -> int:
    """Sends the tasks kept while the broker was down (idempotent: each kept task once)."""
    return pending_tasks_send()
