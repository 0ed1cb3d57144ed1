"""Webhook deliveries and portfolio imports delivered twice (a worker died before its ack),
and each killed half-way: the receiver gets each event once per successful post (and the
same `webhook-id` when a post is repeated), and an import resumes to each loan once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from lendcore.webhooks import services as webhooks
from lendcore.webhooks.models import Event, WebhookDelivery
from lendcore.webhooks.outbox import event_emit
from lendcore.webhooks.tasks import webhooks_deliver_task
from origination.demo import personal_product_ensure
from origination.models import LoanImport
from origination.services import loan_import
from origination.tasks import loan_import_run_task
from servicing.ledger import ledger_problems
from servicing.models import Loan
from servicing.services import business_date_set
from tests.imports.conftest import TODAY, loan_row, to_csv
from tests.webhooks.conftest import receiver  # noqa: F401 (the loopback receiver fixture)

from .redelivery import deliver_twice

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """What SIGKILL looks like from inside: nothing after it runs, no `except Exception`
    catches it, the open transaction rolls back."""


def _subscribe_and_emit(admin_user, receiver_url: str, events: int) -> None:
    webhooks.subscription_create(
        url=receiver_url, event_types=["payment.posted"], acting_user=admin_user
    )
    for n in range(events):
        with transaction.atomic():
            event_emit(type="payment.posted", loan_id=n + 1, data={"n": n})


def test_webhook_deliveries_delivered_twice_post_each_event_once(
    admin_user,
    receiver,  # noqa: F811
):
    # Given three events for a subscriber
    _subscribe_and_emit(admin_user, receiver.url, 3)

    # When the delivery task's message is delivered twice
    deliver_twice(webhooks_deliver_task)

    # Then each event reached the receiver once, and every delivery is recorded succeeded
    ids = sorted(r.headers["webhook-id"] for r in receiver.received)
    assert ids == sorted(event.webhook_id for event in Event.objects.all())
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_worker_killed_after_posting_posts_again_under_the_same_webhook_id(
    admin_user,
    receiver,  # noqa: F811
    monkeypatch,
):
    """At least once: the receiver deduplicates on `webhook-id` (Standard Webhooks)."""
    _subscribe_and_emit(admin_user, receiver.url, 1)

    def killed(*args, **kwargs):
        raise WorkerKilled

    # When the worker dies after the post and before recording it
    with monkeypatch.context() as patch:
        patch.setattr(webhooks, "successes_record", killed)
        with pytest.raises(WorkerKilled):
            webhooks.webhooks_deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"  # leased, not recorded
    # ... and its lease runs out, the next delivery task posts it again
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhooks.webhooks_deliver()

    # Then the receiver saw the same webhook-id twice, and the delivery succeeded once
    webhook_id = Event.objects.get().webhook_id
    assert [r.headers["webhook-id"] for r in receiver.received] == [webhook_id, webhook_id]
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


@pytest.fixture
def import_ready(db):
    personal_product_ensure()
    business_date_set(business_date=TODAY, acting_user=None)


def _job(admin_user, rows: int) -> LoanImport:
    content = to_csv([loan_row(n) for n in range(1, rows + 1)])
    return loan_import.loan_import_create(content=content, acting_user=admin_user, enqueue=False)


def test_an_import_delivered_twice_boards_each_loan_once(admin_user, import_ready):
    job = _job(admin_user, 3)
    assert deliver_twice(loan_import_run_task, job.pk) == ("succeeded", "succeeded")
    assert Loan.objects.filter(external_id__startswith="OLD-").count() == 3
    assert ledger_problems() == []


def test_an_import_killed_between_batches_resumes_to_each_loan_once(
    admin_user, import_ready, monkeypatch
):
    # Given an import boarding one loan per batch, its worker killed in the second batch
    monkeypatch.setattr(loan_import, "BATCH", 1)
    job = _job(admin_user, 3)
    real = loan_import.loans_migrate
    calls = []

    def dies_in_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise WorkerKilled
        return real(**kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(loan_import, "loans_migrate", dies_in_the_second_batch)
        with pytest.raises(WorkerKilled):
            loan_import_run_task.apply(args=(job.pk,), task_id="import-1")
    job.refresh_from_db()
    assert job.status == LoanImport.Status.RUNNING
    assert Loan.objects.filter(external_id__startswith="OLD-").count() == 1

    # When the message is delivered again (same task id), and once more
    assert deliver_twice(loan_import_run_task, job.pk) == ("succeeded", "succeeded")

    # Then every loan is boarded once and the ledger balances
    external = sorted(Loan.objects.values_list("external_id", flat=True))
    assert external == ["OLD-1", "OLD-2", "OLD-3"]
    job.refresh_from_db()
    assert job.imported_rows == 3
    assert ledger_problems() == []
