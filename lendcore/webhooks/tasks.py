"""Thin Celery tasks: deliver the outbox (beat runs it every few seconds; commits kick it)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="lendcore.webhooks.tasks.webhooks_deliver_task", ignore_result=True)
def webhooks_deliver_task() -> dict[str, int]:
    return services.webhooks_deliver()
