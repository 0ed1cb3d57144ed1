"""Redis (the Celery broker and the cache) down: the web app still serves reads and posts
payments, no request fails after its change committed, the side effects wait (kept tasks,
the webhook outbox) and go out once Redis is back, and close of business refuses to start.

The broker is a redis-server of the test's own on a free port, stopped and started again;
the shared Redis on 6379 is never touched."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
from datetime import date

import pytest
import redis
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from lendcore.accounts.services import api_token_issue
from lendcore.celery import app
from lendcore.core.broker import pending_tasks_send
from lendcore.core.models import PendingTask
from lendcore.webhooks.models import Event
from origination.effects import NOTIFICATION_SEND
from origination.models import Application
from servicing.models import CobRun, Loan, Payment
from servicing.selectors import business_date_get
from tests.cob.conftest import use_broker
from tests.servicing.factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class PrivateRedis:
    """A throw-away redis-server on a free loopback port (no persistence)."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> None:
        subprocess.run(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "yes"),
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while not self.up():
            assert time.monotonic() < deadline, f"redis-server on {self.port} did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True
        )
        deadline = time.monotonic() + 10
        while self.up():
            assert time.monotonic() < deadline, f"redis-server on {self.port} did not stop"
            time.sleep(0.05)

    def up(self) -> bool:
        """Whether the port takes a connection (a plain socket: redis-py retries with backoff)."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def queued_tasks(self, queue: str = "celery") -> list[tuple[str, list]]:
        """(task name, args) of the messages waiting in `queue`, oldest first."""
        found = []
        for raw in reversed(self.client.lrange(queue, 0, -1)):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            found.append((message["headers"]["task"], args))
        return found


@pytest.fixture
def broker(settings):
    """A private Redis (up) and `attach()`, which points the test process's Celery app at it:
    tasks are then sent to it, not run in-process. Detached and stopped at teardown."""
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    private = PrivateRedis()
    private.start()
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)

    def attach() -> None:
        settings.CELERY_TASK_ALWAYS_EAGER = False  # what the webhook outbox reads
        settings.WEBHOOK_KICK_ON_COMMIT = True
        # the cache on the same Redis, as docker-compose has it (the settings pick the
        # fail-open backend for a redis:// CACHE_URL)
        settings.CACHES = {
            "default": {
                "BACKEND": "lendcore.core.cache.FailOpenRedisCache",
                "LOCATION": private.url.replace("/0", "/2"),
            }
        }
        use_broker(app, eager=False, broker=private.url, backend=private.url)

    private.attach = attach  # type: ignore[attr-defined]
    try:
        yield private
    finally:
        use_broker(app, eager=saved[0], broker=saved[1], backend=saved[2])
        private.stop()


def test_with_redis_down_payments_post_effects_wait_and_cob_refuses(
    broker, accepted, borrower, servicing_agent, loan_officer, admin_user, business_date, client
):
    # Given a loan ten days old and an accepted application, and tasks sent to Redis
    loan = board_loan(borrower=borrower, principal="1200.00", application_ref="REDIS-1")
    application = accepted()
    business_date(date(2026, 1, 11))
    broker.attach()
    # the agent's client authenticates with an API token: its rate limit lives in the cache
    agent = APIClient(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=servicing_agent).key}")
    officer = APIClient()
    officer.force_authenticate(loan_officer)

    # When Redis stops
    broker.stop()

    # Then reads are served (the rate limit cannot count without Redis: it lets them through)
    assert agent.get(f"/api/v1/loans/{loan.pk}/").status_code == 200
    assert agent.get(f"/api/v1/loans/{loan.pk}/payments/").status_code == 200

    # and a payment posts: 201 (its webhook event waits in the outbox), quickly
    began = time.monotonic()
    posted = agent.post(
        f"/api/v1/loans/{loan.pk}/payments/",
        {"amount": "25.00", "method": "ach", "reference": "redis-down"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="redis-down-1",
    )
    assert posted.status_code == 201, posted.content
    assert time.monotonic() - began < 5
    assert Payment.objects.get(loan=loan).pk == posted.json()["id"]
    event = Event.objects.get(loan_id=loan.pk, type="payment.posted")
    assert event.dispatched_at is None

    # and a disbursement commits with its e-mail to the borrower kept for later
    disbursed = officer.post(
        f"/api/v1/applications/{application.pk}/disburse/",
        {"method": "ach", "reference": "ACH-REDIS-DOWN"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="redis-down-2",
    )
    assert disbursed.status_code == 200, disbursed.content
    application.refresh_from_db()
    assert application.status == Application.Status.DISBURSED
    kept = PendingTask.objects.get()
    assert (kept.name, kept.args) == (NOTIFICATION_SEND, [application.pk, "disbursed"])
    assert kept.error

    # and close of business refuses to start, on the API, the command and the staff page
    admin = APIClient()
    admin.force_authenticate(admin_user)
    refused = admin.post("/api/v1/cob-runs/", {}, format="json")
    assert refused.status_code == 502
    assert refused.json()["code"] == "cob_dispatch_failed"
    assert "broker (Redis) cannot be reached" in refused.json()["message"]
    with pytest.raises(CommandError, match="broker"):
        call_command("run_cob")
    client.force_login(admin_user)
    page = client.post("/staff/cob/run/", follow=True)
    assert b"broker (Redis) cannot be reached" in page.content
    assert not CobRun.objects.exists()
    assert business_date_get() == date(2026, 1, 11)
    assert not Loan.objects.filter(last_closed_on__isnull=False).exists()

    # When Redis is back and the periodic sweep runs
    broker.start()
    assert pending_tasks_send() == 1

    # Then the kept e-mail is on the broker's queue, once, and nothing is kept any more
    assert broker.queued_tasks() == [(NOTIFICATION_SEND, [application.pk, "disbursed"])]
    assert not PendingTask.objects.exists()
    assert pending_tasks_send() == 0
    # and the next change's effects go straight to the broker again
    officer.post(
        f"/api/v1/applications/{application.pk}/disburse/",
        {"method": "ach", "reference": "ACH-REDIS-DOWN"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="redis-down-2",
    )
    assert not PendingTask.objects.exists()


def test_a_sweep_while_redis_is_still_down_keeps_the_tasks(broker):
    # Given a task kept while the broker was down, and the broker still down
    broker.attach()
    broker.stop()
    PendingTask.objects.create(name=NOTIFICATION_SEND, args=[1, "disbursed"], error="down")

    # When the sweep runs
    sent = pending_tasks_send()

    # Then nothing went out and the task is still kept, its attempt counted
    assert sent == 0
    kept = PendingTask.objects.get()
    assert kept.attempts == 2
    assert "Error" in kept.error
