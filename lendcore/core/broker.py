"""Sending Celery tasks so that a broker outage (Redis down) loses no side effect and fails
no request whose change already committed.

Services queue their effects (e-mails, PDFs, decisions) after commit; a task the broker
refuses then is kept as a `PendingTask` row and `pending_tasks_send` (beat, every minute)
sends it once the broker is back: at-least-once, so the tasks are idempotent where it
matters (a reminder is sent only while `queued`). Webhooks need none of this: their events
are in the outbox already (`lendcore.webhooks.outbox`). Tasks run in-process when eager
(tests, no broker configured), as before.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from django.db.models import F
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from lendcore.celery import app

from .models import PendingTask

log = logging.getLogger(__name__)

# What a publish (or a Redis cache) raises when Redis cannot be reached: kombu wraps the
# transport's connection errors, a socket or redis-py error may come through bare.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
)


def tasks_eager() -> bool:
    """Whether tasks run in-process (tests, no broker configured)."""
    return bool(app.conf.task_always_eager)


def _registered(name: str) -> Task | None:
    if name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovery is lazy outside a worker
    return app.tasks.get(name)


def _publish(name: str, args: list, options: dict) -> None:
    # ignore_result: no one waits on these, and a result store that is down (the same
    # Redis) would otherwise hold the sender for twenty seconds before failing it
    app.send_task(name, args=args, ignore_result=True, **options)


def task_send(name: str, *args: Any, **options: Any) -> bool:
    """Send the task `name` with `args` now. With the broker down it is kept to be sent
    again (False is returned, nothing raised). Eager: run in-process (its errors raise)."""
    task = _registered(name) if tasks_eager() else None
    if task is not None:
        task.apply_async(args, **options)
        return True
    try:
        _publish(name, list(args), options)
    except BROKER_ERRORS as error:
        log.warning("broker down: task %s kept to be sent again (%s)", name, error)
        PendingTask.objects.create(name=name, args=list(args), options=options, error=_why(error))
        return False
    return True


def publish_or_skip(name: str) -> bool:
    """Send the task `name` (no arguments) when the broker takes it; else log and skip: for
    a nudge that a periodic task makes anyway (webhook delivery from the outbox)."""
    try:
        _publish(name, [], {})
    except BROKER_ERRORS as error:
        log.warning("broker down: task %s skipped, its periodic run will do it (%s)", name, error)
        return False
    return True


def task_send_on_commit(name: str, *args: Any, **options: Any) -> None:
    """`task_send` once the current transaction commits (nothing when it rolls back)."""
    transaction.on_commit(lambda: task_send(name, *args, **options))


def pending_tasks_send(*, limit: int = 500) -> int:
    """Send the kept tasks, oldest first, and forget each one sent; stop at the first the
    broker refuses (still down: the next run tries again). Returns how many went out."""
    sent: list[int] = []
    # The rows stay locked while they are sent, so that two sweeps at once (beat and a
    # manual run) do not send one task twice.
    with transaction.atomic():
        kept = PendingTask.objects.select_for_update(skip_locked=True).order_by("pk")[:limit]
        for task in kept:
            try:
                _publish(task.name, task.args, task.options)
            except BROKER_ERRORS as error:
                PendingTask.objects.filter(pk=task.pk).update(
                    attempts=F("attempts") + 1, error=_why(error)
                )
                break
            sent.append(task.pk)
        PendingTask.objects.filter(pk__in=sent).delete()
    if sent:
        log.info("broker back: %d kept task(s) sent", len(sent))
    return len(sent)


def broker_reachable(*, timeout: float = 2.0) -> bool:
    """Whether the broker takes a connection now (one attempt). True when eager."""
    if tasks_eager():
        return True
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except BROKER_ERRORS:
        return False
    return True


def _why(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
