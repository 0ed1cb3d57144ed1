"""Thin Celery tasks: take ids, call one service. Eager in the embedded default and in tests."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import Retry
from django.conf import settings

from . import notifications, selectors, services
from .services import loan_import

logger = logging.getLogger(__name__)


def _retry_max() -> int:
    return int(getattr(settings, "BUREAU_RETRY_MAX", 5))


def _retry_base_seconds() -> int:
    return int(getattr(settings, "BUREAU_RETRY_BASE_SECONDS", 60))


@shared_task(bind=True, name="origination.application_decide")
def application_decide_task(self: Task, application_id: int, attempt: int = 0) -> str | Retry:
    """Run the automated decision; while the bureau (or identity provider) is down, retry with
    Celery's retry and an exponential backoff. `attempt` is where the backoff starts (the
    periodic sweep passes the maximum: one try, no retry)."""
    application = services.application_decide(application_id=application_id)
    tries = attempt + self.request.retries
    if (
        application.status == application.Status.IN_REVIEW
        and application.status_reason in selectors.WAITING_REASONS
        and tries < _retry_max()
    ):
        retry = self.retry(
            countdown=_retry_base_seconds() * 2**tries, max_retries=_retry_max(), throw=False
        )
        if self.request.is_eager:
            # Eager (tests, the embedded default): with task_eager_propagates a raised Retry
            # would reach the caller; returned, Celery's `apply()` runs the retry itself.
            return retry
        raise retry
    return application.status


@shared_task(name="origination.decisions_retry_waiting")
def decisions_retry_waiting_task() -> int:
    """Periodic sweep: applications left waiting for the bureau are decided again."""
    ids = selectors.applications_waiting_retry()
    for application_id in ids:
        application_decide_task.delay(application_id, _retry_max())
    return len(ids)


@shared_task(name="origination.offers_expire")
def offers_expire_task() -> int:
    return services.offers_expire()


@shared_task(name="origination.adverse_action_notice")
def adverse_action_notice_task(application_id: int) -> int:
    return services.adverse_action_notice_create(application_id=application_id).pk


@shared_task(
    name="origination.notification_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    bind=True,
)
def notification_send_task(self: Task, application_id: int, event: str) -> bool:
    """At most one e-mail per task message, redelivered or retried (the task id is kept)."""
    return notifications.notification_send(
        application_id=application_id, event=event, delivery_id=self.request.id
    )


@shared_task(
    name="origination.invitation_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    bind=True,
)
def invitation_send_task(self: Task, invitation_id: int, token: str) -> bool:
    return notifications.invitation_send(
        invitation_id=invitation_id, token=token, delivery_id=self.request.id
    )


@shared_task(name="origination.loan_import_run")
def loan_import_run_task(import_id: int) -> str:
    """Validate and board a portfolio import. An unexpected failure is recorded on the job
    (status `failed`, the batches boarded so far kept: running it again resumes)."""
    try:
        return loan_import.loan_import_run(import_id=import_id).status
    except Exception as error:
        logger.exception("loan import %s failed", import_id)
        loan_import.loan_import_run_failed(import_id=import_id, reason=repr(error))
        return loan_import.S.FAILED
