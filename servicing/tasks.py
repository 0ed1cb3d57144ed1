"""Thin Celery tasks: take ids and dates, call one service.

Nothing imports this module but Celery: services send these tasks by name
(`servicing.effects`), so the imports below close no cycle.
"""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_process_init

from lendcore.errors import Conflict

from .cob.notifications import notifications_send
from .cob.runner import cob_partition_process, cob_run_close, cob_run_start, cob_worker_warm
from .statements import statements_render


@worker_process_init.connect
def worker_process_ready(**kwargs) -> None:
    """A new worker process drops the database session it may have inherited from its
    parent (a socket is never shared across fork) and opens its own with the tables close
    of business works on already known to it, so that its first partition does not pay
    for the connection and the catalog lookups (a quarter second a process)."""
    cob_worker_warm()


# --------------------------------------------------------------------------- close of business


@shared_task(acks_late=True, reject_on_worker_lost=True)
def cob_partition_task(run_id: int, partition_id: int) -> str:
    return cob_partition_process(run_id=run_id, partition_id=partition_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def cob_close_task(run_id: int) -> str:
    return cob_run_close(run_id=run_id).status


@shared_task
def cob_nightly_task() -> str:
    """Beat's nightly entry: close the current business date (409s are logged, not raised)."""
    try:
        return cob_run_start(trigger="schedule").status
    except Conflict as error:
        return f"skipped: {error.message}"


@shared_task(acks_late=True)
def notifications_send_task(notification_ids: list[int]) -> int:
    return notifications_send(notification_ids=notification_ids)


@shared_task(acks_late=True)
def statements_render_task(statement_ids: list[int]) -> int:
    return statements_render(statement_ids=statement_ids)
