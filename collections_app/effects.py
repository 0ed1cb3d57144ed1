"""Side effects of collections, sent by Celery task NAME once the transaction commits (as
servicing.effects does): no service imports a tasks module, nothing leaves the process
before its rows are committed; in eager mode (tests) the task runs in-process."""

from __future__ import annotations

from typing import Any

from lendcore.core import broker

DUNNING_SEND = "collections_app.tasks.dunning_send_task"


def task_send(name: str, *args: Any) -> None:
    """Kept and sent again when the broker is down (`lendcore.core.broker`)."""
    broker.task_send(name, *args)


def task_on_commit(name: str, *args: Any) -> None:
    broker.task_send_on_commit(name, *args)
