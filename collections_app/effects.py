"""Side effects of collections, sent by Celery task NAME once the transaction commits (as
servicing.effects does): no service imports a tasks module, nothing leaves the process
before its rows are committed; in eager mode (tests) the task runs in-process."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from lendcore.celery import app

DUNNING_SEND = "collections_app.tasks.dunning_send_task"


def task_send(name: str, *args: Any) -> None:
    if name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovery is lazy outside a worker
    app.tasks[name].apply_async(args)


def task_on_commit(name: str, *args: Any) -> None:
    transaction.on_commit(lambda: task_send(name, *args))
