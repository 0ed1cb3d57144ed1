"""Test settings: the database comes from DATABASE_URL (SQLite locally, PostgreSQL in CI)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# `make test` runs the suite in several pytest-xdist processes: each keeps its own files (a
# test that rotates the key ring must not pull another process's key from under it).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_SUFFIX = f"-{_WORKER}" if _WORKER else ""
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / f".test-media{_SUFFIX}"))
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if "replica" in DATABASES and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # The replica is a PostgreSQL deployment's: SQLite's in-memory test database, opened a
    # second time, meets table locks. On SQLite everything reads `default`, as when unset.
    del DATABASES["replica"]  # noqa: F405
if "replica" in DATABASES:  # noqa: F405
    # DATABASE_REPLICA_URL set (CI): the replica alias is its own connection to the test
    # database (Django's test mirror), so the heavy reads really take the `replica` alias and
    # see the test's rows (tests/conftest.py shares the test transaction with it).
    DATABASES["replica"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
# the production path on PostgreSQL (the test run keeps one session per thread anyway)
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
# Tests run tasks in-process unless a test starts a real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = True
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # noqa: F405
    "quote": "10000/minute",
    "auth": "10000/minute",
    "token": "100000/minute",
}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LENDCORE_ENVIRONMENT = "test"
# Tests never touch a developer's real key ring.
FIELD_ENCRYPTION_KEY_FILE = env.str(
    "FIELD_ENCRYPTION_KEY_FILE",
    default=str(Path(tempfile.gettempdir()) / "lendcore-test" / f"field-keys{_SUFFIX}"),
)
# Webhook receivers on this machine (loopback) are allowed here, never in production.
WEBHOOK_ALLOW_PRIVATE_URLS = True
