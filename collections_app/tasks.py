"""Collections' Celery tasks: thin, they take ids and call one function."""

from __future__ import annotations

from celery import shared_task

from collections_app.dunning import dunning_send


@shared_task(name="collections_app.tasks.dunning_send_task")
def dunning_send_task(notice_ids: list[int]) -> int:
    return dunning_send(notice_ids=notice_ids)
