"""Side effects of servicing, sent by Celery task NAME once the transaction commits.

Services and close-of-business steps call these instead of importing `servicing.tasks`
(which imports the services it runs): no cycle, and nothing leaves the process before the
rows it refers to are committed (Saleor's checkout handoff, Zulip's `send_event_on_commit`).
The task is looked up in the Celery app's registry when it is sent, so eager mode (tests,
a development machine without a broker) runs it in-process as before.
"""

from __future__ import annotations

from typing import Any

from celery import Signature, Task, chord
from django.db import transaction

from lendcore.celery import app

# The names of servicing's tasks (`servicing.tasks`), as Celery registers them.
COB_PARTITION = "servicing.tasks.cob_partition_task"
COB_CLOSE = "servicing.tasks.cob_close_task"
NOTIFICATIONS_SEND = "servicing.tasks.notifications_send_task"
STATEMENTS_RENDER = "servicing.tasks.statements_render_task"


def _task(name: str) -> Task:
    if name not in app.tasks:
        # Autodiscovery is lazy outside a worker: import every app's tasks module now.
        app.loader.import_default_modules()
    return app.tasks[name]


def task_send(name: str, *args: Any, **options: Any) -> None:
    """Send the task `name` now (apply_async: in-process when tasks run eagerly)."""
    _task(name).apply_async(args, **options)


def task_on_commit(name: str, *args: Any, **options: Any) -> None:
    """Send the task `name` with `args` after the current transaction commits."""
    transaction.on_commit(lambda: task_send(name, *args, **options))


def task_signature(name: str, *args: Any, **options: Any) -> Signature:
    """An immutable signature of the task `name` (for a chord), with its routing options."""
    return app.signature(name, args=args, immutable=True).set(**options)


def chord_send(header: list[Signature], body: Signature) -> None:
    """Run `header` in parallel, then `body` (or `body` alone when there is no header)."""
    if not header:
        body.apply_async()
        return
    chord(header)(body)


def tasks_eager() -> bool:
    """Whether tasks run in-process (tests, no broker configured)."""
    return bool(app.conf.task_always_eager)
