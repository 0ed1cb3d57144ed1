"""Delivery to a real receiver on loopback: signatures (verified by the standardwebhooks
reference library), retries with backoff, timeouts, dead letter, redelivery, order per
loan, secret rotation, auto-disable, the SSRF guard at posting time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from lendcore.webhooks import services
from lendcore.webhooks.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from lendcore.webhooks.outbox import event_emit

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    return settings


def _subscribe(admin_user, receiver, types=("payment.posted",)):
    return services.subscription_create(
        url=receiver.url, event_types=list(types), acting_user=admin_user
    )


def _emit(type="payment.posted", loan_id=1, **data):
    with transaction.atomic():
        event_emit(type=type, loan_id=loan_id, data={"loan_id": loan_id, **data})


def _due_now():
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def test_a_delivery_is_signed_per_standard_webhooks(admin_user, receiver, fast):
    # Given a subscription and a payment.posted event
    subscription, secret = _subscribe(admin_user, receiver)
    assert secret.startswith("whsec_")
    _emit(amount="10.00")

    # When the outbox is delivered
    counts = services.webhooks_deliver()

    # Then the receiver got it once, and the reference library verifies the signature
    assert counts["succeeded"] == 1
    (got,) = receiver.received
    event = Event.objects.get()
    assert got.headers["webhook-id"] == event.webhook_id
    assert got.headers["webhook-signature"].startswith("v1,")
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "payment.posted"
    assert payload["data"] == {"loan_id": 1, "amount": "10.00"}
    with pytest.raises(WebhookVerificationError):
        Webhook(services.secret_generate()).verify(got.body, got.headers)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.subscription_id) == ("succeeded", subscription.pk)
    assert delivery.tries.get().status_code == 200


def test_only_subscribed_types_are_delivered(admin_user, receiver, fast):
    _subscribe(admin_user, receiver, types=("loan.paid_off",))
    _emit()
    services.webhooks_deliver()
    assert receiver.received == []
    assert Event.objects.get().dispatched_at is not None
    assert not WebhookDelivery.objects.exists()


def test_failures_retry_with_backoff_and_the_same_webhook_id(admin_user, receiver, fast):
    # Given a receiver that fails twice, then answers 200
    _subscribe(admin_user, receiver)
    receiver.script = [500, 503]
    _emit()

    # When delivered: the first attempt fails and the next waits base/2..base seconds
    before = timezone.now()
    services.webhooks_deliver()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 4.5 <= wait <= 11
    services.webhooks_deliver()  # not due yet: nothing posted
    assert len(receiver.received) == 1

    # Then once due it is tried again, and again, until it succeeds
    _due_now()
    services.webhooks_deliver()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert (delivery.next_attempt_at - timezone.now()).total_seconds() > 9  # 20 s ± jitter
    _due_now()
    services.webhooks_deliver()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [a.status_code for a in delivery.tries.all()] == [500, 503, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert delivery.tries.first().response_body == "x" * 2000  # the answer kept, truncated


def test_retry_delay_is_exponential_with_jitter_and_capped():
    assert services.retry_delay(1, base=10, cap=100, rand=lambda: 0.0) == 5
    assert services.retry_delay(1, base=10, cap=100, rand=lambda: 1.0) == 10
    assert services.retry_delay(3, base=10, cap=100, rand=lambda: 1.0) == 40
    assert services.retry_delay(9, base=10, cap=100, rand=lambda: 1.0) == 100


def test_a_timeout_is_a_failed_attempt(admin_user, receiver, fast):
    fast.WEBHOOK_TIMEOUT_SECONDS = 0.3
    _subscribe(admin_user, receiver)
    receiver.script = [("sleep", 1.5)]
    _emit()
    services.webhooks_deliver()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("timeout")
    assert WebhookDelivery.objects.get().status == "pending"


def test_dead_letter_after_the_last_attempt_then_redelivery(
    admin_user, receiver, fast, staff_api_client
):
    # Given a receiver that is down
    _subscribe(admin_user, receiver)
    receiver.default = 500
    _emit()

    # When every allowed attempt fails
    for _ in range(fast.WEBHOOK_MAX_ATTEMPTS):
        _due_now()
        services.webhooks_deliver()

    # Then the delivery is dead-lettered and not tried again
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    _due_now()
    services.webhooks_deliver()
    assert len(receiver.received) == 3

    # When the receiver is back and an admin redelivers it over the API
    receiver.default = 200
    answer = staff_api_client(admin_user).post(
        f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "pending"
    services.webhooks_deliver()

    # Then it arrives, with the same webhook-id, and every attempt stays on record
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.tries.count() == 4
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    detail = staff_api_client(admin_user).get(f"/api/v1/webhook-deliveries/{delivery.pk}/")
    assert [t["status_code"] for t in detail.json()["tries"]] == [500, 500, 500, 200]


def test_order_is_kept_per_loan(admin_user, receiver, fast):
    # Given two events of loan 1 and one of loan 2; the first attempt (loan 1's first) fails
    _subscribe(admin_user, receiver)
    receiver.fail_body, receiver.fail_times = b'"n":1', 1
    _emit(loan_id=1, n=1)
    _emit(loan_id=1, n=2)
    _emit(loan_id=2, n=3)

    # When delivered: loan 1's second waits for its first; loan 2's goes
    services.webhooks_deliver()
    sent = [(r.body, r.headers["webhook-id"]) for r in receiver.received]
    assert len(sent) == 2
    assert [b'"n":1' in body for body, _ in sent].count(True) == 1
    assert any(b'"n":3' in body for body, _ in sent)
    assert not any(b'"n":2' in body for body, _ in sent)

    # Then once the first is due and delivered, the second follows it
    _due_now()
    services.webhooks_deliver()
    loan1 = [r.body for r in receiver.received if b'"loan_id":1' in r.body]
    assert [b'"n":1' in b for b in loan1] == [True, True, False]
    assert b'"n":2' in loan1[-1]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_secret_rotation_signs_with_both_during_the_overlap(admin_user, receiver, fast):
    # Given a subscription whose secret is rotated with a day of overlap
    subscription, old = _subscribe(admin_user, receiver)
    new = services.subscription_secret_rotate(
        subscription=subscription, acting_user=admin_user, overlap=timedelta(days=1)
    )
    _emit(n=1)
    services.webhooks_deliver()

    # Then both signatures are sent, and a receiver holding either secret verifies it
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)

    # When the overlap is over, only the new secret signs
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    _emit(n=2)
    services.webhooks_deliver()
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)


def test_a_run_of_failures_disables_the_subscription_and_tells_its_owner(
    admin_user, receiver, fast, mailoutbox, django_capture_on_commit_callbacks
):
    fast.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    admin_user.email = "owner@example.com"
    admin_user.save(update_fields=["email"])
    subscription, _ = _subscribe(admin_user, receiver)
    receiver.default = 500
    _emit(loan_id=1)
    _emit(loan_id=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhooks_deliver()
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "2 failed attempts" in subscription.disabled_reason
    assert [m.to for m in mailoutbox] == [["owner@example.com"]]
    # nothing more is posted to it until it is enabled again
    _due_now()
    services.webhooks_deliver()
    assert len(receiver.received) == 2


def test_a_private_address_is_refused_at_posting_time_in_production(admin_user, receiver, fast):
    # Given a subscription to loopback (allowed when it was made), then production settings
    _subscribe(admin_user, receiver)
    fast.WEBHOOK_ALLOW_PRIVATE_URLS = False
    _emit()
    services.webhooks_deliver()
    attempt = WebhookAttempt.objects.get()
    assert attempt.error.startswith("refused")
    assert receiver.received == []
