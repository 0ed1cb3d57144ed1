"""A task message delivered twice, as Celery's at-least-once delivery does when a worker dies
after the task ran but before the broker heard its acknowledgement: the same arguments under
the same task id, run in this process (the test settings run tasks eagerly)."""

from __future__ import annotations

import uuid
from typing import Any

from celery import Task


def deliver_twice(task: Task, *args: Any) -> tuple[Any, Any]:
    """The results of the first delivery and of its redelivery."""
    task_id = f"redelivered-{uuid.uuid4()}"
    first = task.apply(args=args, task_id=task_id).get()
    second = task.apply(args=args, task_id=task_id).get()
    return first, second
