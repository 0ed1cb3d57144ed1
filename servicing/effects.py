"""Side effects of servicing, sent by Celery task NAME once the transaction commits.

Services and close-of-business steps call these instead of importing `servicing.tasks`
(which imports the services it runs): no cycle, and nothing leaves the process before the
rows it refers to are committed (Saleor's checkout handoff, Zulip's `send_event_on_commit`).
The task is looked up in the Celery app's registry when it is sent, so eager mode (tests,
a development machine without a broker) runs it in-process as before.
"""

from __future__ import annotations

from typing import Any

from celery import Signature, chord

from lendcore.celery import app
from lendcore.core import broker

# The names of servicing's tasks (`servicing.tasks`), as Celery registers them.
COB_PARTITION = "servicing.tasks.cob_partition_task"
COB_CLOSE = "servicing.tasks.cob_close_task"
NOTIFICATIONS_SEND = "servicing.tasks.notifications_send_task"
STATEMENTS_RENDER = "servicing.tasks.statements_render_task"


def task_send(name: str, *args: Any, **options: Any) -> None:
    """Send the task `name` now (in-process when tasks run eagerly; kept and sent again
    when the broker is down, see `lendcore.core.broker`)."""
    broker.task_send(name, *args, **options)


def task_on_commit(name: str, *args: Any, **options: Any) -> None:
    """Send the task `name` with `args` after the current transaction commits."""
    broker.task_send_on_commit(name, *args, **options)


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
    return broker.tasks_eager()
