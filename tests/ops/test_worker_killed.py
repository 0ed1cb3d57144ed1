"""A real Celery worker killed outright (SIGKILL to the whole worker, parent and pool) in the
middle of a task, on Redis and PostgreSQL: a new worker gets the unacknowledged message back
once Redis' visibility timeout has passed, and the task completes exactly once.

The task is an applicant's e-mail through a real SMTP exchange with a loopback server that
hangs the first connection (the worker is caught mid-send) and accepts the next one. The
close of business has its own kill test (tests/cob/test_cob_worker.py: a pool process killed
mid-partition); this one takes the worker's machine away, so nothing is handed back at once.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from lendcore.celery import app
from lendcore.core.models import TaskReceipt
from origination.notifications import NOTIFICATION_RECEIPT
from origination.tasks import notification_send_task
from tests.cob.conftest import Worker, use_broker
from tests.origination.factories import ApplicantFactory, ApplicationFactory

from .services import REDIS_URL, redis_or_skip
from .smtp import smtp_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

VISIBILITY_SECONDS = 3  # the second worker's: Redis gives a message back after this long
DEADLINE_SECONDS = 50


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _wait_for(condition, what: str, deadline: float) -> None:
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def broker():
    """This process sends to Redis (a private DB number) instead of running tasks eagerly."""
    redis_or_skip()
    saved = (app.conf.broker_url, app.conf.result_backend)
    use_broker(app, eager=False, broker=REDIS_URL, backend=REDIS_URL)
    yield REDIS_URL
    use_broker(app, eager=True, broker=saved[0], backend=saved[1])


def test_a_worker_killed_mid_task_is_redelivered_and_sends_once(broker, loan_officer, tmp_path):
    # Given an application whose applicant has an address, and an SMTP server that hangs
    # the first connection made to it
    application = ApplicationFactory(
        applicant=ApplicantFactory(acting_user=loan_officer), acting_user=loan_officer
    )
    queue = f"opstest-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS
    with smtp_server(hang_connections={1}) as smtp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lendcore.settings.local",
            "DATABASE_URL": _database_url(),
            "DATABASE_REPLICA_URL": _database_url() if "replica" in settings.DATABASES else "",
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_RESULT_BACKEND": REDIS_URL,
            "FIELD_ENCRYPTION_KEY_FILE": settings.FIELD_ENCRYPTION_KEY_FILE,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
        }
        first = Worker(queue=queue, env=env, log=tmp_path / "first.log")
        second = None
        try:
            first.wait_ready(app)

            # When the e-mail's task is sent and the worker is killed while it waits on SMTP
            result = notification_send_task.apply_async(
                args=(application.pk, "submitted"), queue=queue
            )
            _wait_for(lambda: smtp.connections >= 1, "the worker to reach SMTP", deadline)
            # the worker took the message before this: Redis dates it from then
            taken_before = time.monotonic()
            os.killpg(first.proc.pid, signal.SIGKILL)
            first.proc.wait(timeout=10)
            assert smtp.messages == []
            assert not TaskReceipt.objects.exists()

            # ... and a new worker starts once the message has been invisible long enough
            # (a starting worker puts back what is older than its visibility timeout; a
            # running one only sweeps every ~100 s)
            time.sleep(max(0.0, taken_before + VISIBILITY_SECONDS + 0.5 - time.monotonic()))
            second = Worker(
                queue=queue,
                env={**env, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS)},
                log=tmp_path / "second.log",
            )
            second.wait_ready(app)

            # Then the message comes back to it and the e-mail goes out, once
            _wait_for(lambda: smtp.messages, "the redelivered e-mail", deadline)
            assert result.get(timeout=max(1.0, deadline - time.monotonic())) is True
        finally:
            for worker in (first, second):
                if worker is not None:
                    worker.stop()
        assert len(smtp.messages) == 1
        assert f"application {application.pk}".encode() in smtp.messages[0]
        assert smtp.connections == 2  # the hung one, then the redelivery's
    receipt = TaskReceipt.objects.get()
    assert receipt.key == f"{NOTIFICATION_RECEIPT}:{result.id}"
    assert time.monotonic() - started < DEADLINE_SECONDS
