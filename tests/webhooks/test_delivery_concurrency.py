"""Delivery at speed keeps its guarantees: kept-alive connections are reused (and replaced when
the receiver closed them, with no failed attempt), and on PostgreSQL two delivery loops at once
never post the same delivery twice, keep the order per loan, and record each attempt once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict

import pytest
from django.db import connection, connections, transaction

from lendcore.webhooks import http, services
from lendcore.webhooks.models import Event, WebhookAttempt, WebhookDelivery
from lendcore.webhooks.outbox import events_emit_many


@pytest.fixture(autouse=True)
def _no_idle_connections():
    http.IDLE.clear()
    yield
    http.IDLE.clear()


def _subscribe(admin_user, receiver):
    return services.subscription_create(
        url=receiver.url, event_types=["payment.posted"], acting_user=admin_user
    )


def _emit(count: int, loans: int) -> None:
    with transaction.atomic():
        events_emit_many(
            ("payment.posted", 1 + n % loans, {"loan_id": 1 + n % loans, "n": n})
            for n in range(count)
        )


@pytest.mark.django_db
def test_a_kept_alive_connection_carries_the_next_deliveries(admin_user, keepalive_receiver):
    # Given five events of one loan (posted one after another: order per loan)
    _subscribe(admin_user, keepalive_receiver)
    _emit(5, loans=1)

    # When delivered
    services.webhooks_deliver()

    # Then all five went over one connection, in order
    assert [json.loads(r.body)["data"]["n"] for r in keepalive_receiver.received] == [0, 1, 2, 3, 4]
    assert keepalive_receiver.connections == 1
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


@pytest.mark.django_db
def test_a_connection_the_receiver_closed_is_replaced_without_a_failed_attempt(
    admin_user, keepalive_receiver
):
    # Given a receiver that closes each connection after answering, without saying so
    keepalive_receiver.drop_after_answer = True
    _subscribe(admin_user, keepalive_receiver)
    _emit(3, loans=1)

    # When delivered
    services.webhooks_deliver()

    # Then each went once, on a new connection each time, and no attempt failed
    assert [json.loads(r.body)["data"]["n"] for r in keepalive_receiver.received] == [0, 1, 2]
    assert keepalive_receiver.connections == 3
    assert list(WebhookAttempt.objects.values_list("succeeded", flat=True)) == [True] * 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_delivery_loops_at_once_post_each_delivery_once_in_order_per_loan(
    admin_user, keepalive_receiver, settings
):
    # Given 120 events over 6 loans, a receiver taking a few milliseconds, small batches
    settings.WEBHOOK_BATCH_SIZE = 4
    keepalive_receiver.script = [("sleep", 0.003)] * 120
    _subscribe(admin_user, keepalive_receiver)
    _emit(120, loans=6)
    errors: list[BaseException] = []
    attempted: list[int] = []

    def loop() -> None:
        done = 0
        try:
            deadline = time.monotonic() + 60
            while (
                Event.objects.filter(dispatched_at__isnull=True).exists()
                or WebhookDelivery.objects.filter(status="pending").exists()
            ):
                done += services.webhooks_deliver()["attempted"]
                assert time.monotonic() < deadline
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            attempted.append(done)
            connections.close_all()

    # When two delivery loops run at once
    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every delivery was posted exactly once, each loan's in order, one attempt each
    assert errors == []
    assert sorted(attempted)[0] > 0  # both loops posted
    ids = Counter(r.headers["webhook-id"] for r in keepalive_receiver.received)
    assert len(ids) == 120
    assert set(ids.values()) == {1}
    by_loan: dict[int, list[int]] = defaultdict(list)
    for received in keepalive_receiver.received:
        data = json.loads(received.body)["data"]
        by_loan[data["loan_id"]].append(data["n"])
    assert len(by_loan) == 6
    assert all(numbers == sorted(numbers) for numbers in by_loan.values())
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert WebhookAttempt.objects.count() == 120
