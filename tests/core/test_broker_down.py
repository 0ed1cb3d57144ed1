"""Redis unreachable (a closed port; no server needed): a task sent after commit is kept
and sent again later, the sweep keeps what the broker still refuses, and the Redis cache
answers as a miss instead of raising."""

from __future__ import annotations

import socket

import pytest
from django.db import transaction

from lendcore.celery import app
from lendcore.core.broker import broker_reachable, pending_tasks_send, task_send_on_commit
from lendcore.core.cache import FailOpenRedisCache
from lendcore.core.models import PendingTask
from tests.cob.conftest import use_broker


def _closed_port_url(db: int = 0) -> str:
    with socket.socket() as sock:  # bound then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/{db}"


@pytest.fixture
def broker_down():
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    url = _closed_port_url()
    use_broker(app, eager=False, broker=url, backend=url)
    yield url
    use_broker(app, eager=saved[0], broker=saved[1], backend=saved[2])


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_after_commit_with_the_broker_down_is_kept_and_the_sweep_keeps_it(
    broker_down,
):
    # When a change commits and its task cannot reach the broker
    with transaction.atomic():
        task_send_on_commit("origination.notification_send", 7, "disbursed", queue="mail")

    # Then nothing raised: the task is kept with its arguments, options and the refusal
    kept = PendingTask.objects.get()
    assert (kept.name, kept.args, kept.options) == (
        "origination.notification_send",
        [7, "disbursed"],
        {"queue": "mail"},
    )
    assert "OperationalError" in kept.error
    assert not broker_reachable(timeout=1)

    # When the sweep runs while the broker is still down, it keeps the task for the next run
    assert pending_tasks_send() == 0
    assert PendingTask.objects.get().attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_keeps_no_task(broker_down):
    def change() -> None:
        with transaction.atomic():
            task_send_on_commit("origination.notification_send", 7, "disbursed")
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        change()
    assert not PendingTask.objects.exists()


def test_the_redis_cache_answers_as_a_miss_while_redis_is_down():
    cache = FailOpenRedisCache(_closed_port_url(2), {})
    assert cache.get("throttle_token_1", []) == []
    cache.set("throttle_token_1", [1.0], 60)  # dropped, not raised
    assert cache.add("webhooks:kick", 1, timeout=1) is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("a") is False
    assert cache.delete("a") is False
    with pytest.raises(ValueError, match="not found"):
        cache.incr("counter")
