"""COB fixtures: the ledger check at teardown, staff users, the hand-built book."""

from __future__ import annotations

import pytest

from lendcore.accounts.roles import Role
from lendcore.accounts.services import staff_user_create
from servicing.ledger import ledger_problems


@pytest.fixture(autouse=True)
def _ledger_reconciles(request):
    yield
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        problems = ledger_problems()
        assert not problems, "ledger_check failed:\n" + "\n".join(problems)


@pytest.fixture
def second_admin(roles):
    return staff_user_create(
        username="t_admin2", password="lendcore-demo", role=Role.ADMIN, superuser=True
    )


@pytest.fixture
def book(borrower, admin_user, second_admin):
    from .scenario import build_book

    return build_book(borrower, admin_user, second_admin)


# --------------------------------------------------------------------------- a real worker

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.conftest import REQUIRE_SERVICES  # noqa: E402

# The broker the workers and this process share. Celery reads CELERY_BROKER_URL from the
# environment before its settings, so a CI that exports it decides for both.
REDIS_URL = (
    os.environ.get("COB_TEST_REDIS_URL")
    or os.environ.get("CELERY_BROKER_URL")
    or "redis://127.0.0.1:6379/7"
)
ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def use_broker(app, *, eager: bool, broker: str, backend) -> None:
    """Point the test process's Celery app at another broker (dropping cached pools)."""
    import threading

    app.conf.task_always_eager = eager
    app.conf.broker_url = broker
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (.ci/run
    # exports it), so point that at the broker too
    if "CELERY_BROKER_URL" in os.environ:
        os.environ["CELERY_BROKER_URL"] = broker
    app.conf.result_backend = backend
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


class Worker:
    def __init__(self, *, queue: str, env: dict, log: Path):
        self.queue = queue
        self.name = f"cobtest-{uuid.uuid4().hex[:8]}@localhost"
        self.log = log
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "lendcore",
                "worker",
                "--pool=prefork",
                "-c",
                "2",
                "-Q",
                queue,
                "-n",
                self.name,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, app, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-2000:]}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise RuntimeError(f"worker not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def celery_worker_factory(request, tmp_path, settings):
    """Start real `celery worker` processes on the test database and Redis DB 7; the test
    process dispatches to them (tasks not eager). Skips without Redis (fails in CI)."""
    from django.db import connection

    from lendcore.celery import app

    if not _redis_up():
        message = f"needs Redis at {REDIS_URL} for a real Celery worker"
        if REQUIRE_SERVICES:
            pytest.fail(f"CI requires every service: {message}", pytrace=False)
        pytest.skip(message)
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    queue = f"cobtest-{uuid.uuid4().hex[:8]}"
    settings.COB_QUEUE = queue
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    use_broker(app, eager=False, broker=REDIS_URL, backend=REDIS_URL)
    workers: list[Worker] = []

    def start(**extra_env) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lendcore.settings.local",
            "DATABASE_URL": database_url,
            # a replica configured here (CI) is the test database in the workers too
            "DATABASE_REPLICA_URL": database_url if "replica" in settings.DATABASES else "",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_RESULT_BACKEND": REDIS_URL,
            "DB_CONN_MAX_AGE": "0",
            "COB_QUEUE": queue,
            "MEDIA_ROOT": str(tmp_path / "media"),
            # the workers decrypt what this process encrypted (autopay's bank accounts)
            "FIELD_ENCRYPTION_KEY_FILE": settings.FIELD_ENCRYPTION_KEY_FILE,
            **{k: str(v) for k, v in extra_env.items()},
        }
        worker = Worker(queue=queue, env=env, log=tmp_path / f"worker{len(workers)}.log")
        workers.append(worker)
        worker.wait_ready(app)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    use_broker(app, eager=True, broker=saved[1], backend=saved[2])  # test settings: eager
