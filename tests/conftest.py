"""Shared fixtures: API clients, a user per staff role, a borrower; service-aware markers.

Markers: `postgres` (row locks, concurrency) runs only on PostgreSQL; `sqlite` only on
SQLite (deselected on PostgreSQL); `e2e` needs /usr/bin/chromium. Outside CI a missing
service skips those tests with the reason; with LENDCORE_REQUIRE_SERVICES=1 (set by .ci/run)
a missing service is a failure instead.

With DATABASE_REPLICA_URL set (CI), the `replica` alias is a test mirror of the test database
(lendcore/settings/test.py): every database test may use it, and a test inside one transaction
(the default) sees its own rows through it too, since the alias then shares the test's
connection; a transactional test has it as a separate connection, as in production.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from rest_framework.test import APIClient

from lendcore.accounts.demo import DEMO_PASSWORD
from lendcore.accounts.roles import Role
from lendcore.accounts.services import borrower_sign_up, roles_sync, staff_user_create
from lendcore.core.replica import REPLICA

CHROMIUM = os.environ.get("LENDCORE_CHROMIUM", "/usr/bin/chromium")
REQUIRE_SERVICES = os.environ.get("LENDCORE_REQUIRE_SERVICES") == "1"


def _missing_service(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL (set DATABASE_URL=postgres://...)"
    if item.get_closest_marker("e2e") and not shutil.which(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}
_TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _allow_replica(item: pytest.Item) -> None:
    """A database test may also use the `replica` alias (the heavy reads take it)."""
    marker = item.get_closest_marker("django_db")
    if marker is None and not _DB_FIXTURES & set(getattr(item, "fixturenames", ())):
        return
    args, kwargs = (marker.args, dict(marker.kwargs)) if marker else ((), {})
    databases = kwargs.get("databases")
    if databases == "__all__":
        return
    kwargs["databases"] = sorted({*(databases or ["default"]), REPLICA})
    item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)


def _sqlite_only_left_out(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`sqlite` tests (the embedded default's own procedures) are left out of a PostgreSQL
    run, deselected rather than skipped (CI fails on a skip)."""
    if connection.vendor == "sqlite":
        return
    left_out = [item for item in items if item.get_closest_marker("sqlite")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("sqlite")]


# Tests that share something outside their own database (the real Redis broker and the
# Celery workers they start, servers they stop and start, the load test's gunicorn, another
# database on the server) run one after another in one pytest-xdist process: `make test` runs
# `--dist loadgroup`, which keeps a group together and spreads every other test.
SHARED_SERVICES = (
    "tests/cob/test_cob_worker.py",
    "tests/core/test_broker_down.py",
    "tests/faults/",
    "tests/ops/",
)


def _shared_services_grouped(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SHARED_SERVICES) or item.get_closest_marker("celery_worker"):
            item.add_marker(pytest.mark.xdist_group("shared_services"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _sqlite_only_left_out(config, items)
    _shared_services_grouped(items)
    if REPLICA in settings.DATABASES:
        for item in items:
            _allow_replica(item)
    if REQUIRE_SERVICES:
        return  # never skip in CI: pytest_runtest_setup fails the test instead
    for item in items:
        reason = _missing_service(item)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if REQUIRE_SERVICES:
        reason = _missing_service(item)
        if reason:
            pytest.fail(f"CI requires every service: {reason}", pytrace=False)


@pytest.fixture(autouse=True)
def _replica_in_the_test_transaction(request: pytest.FixtureRequest, _django_db_marker):
    """In a test run inside one transaction, the `replica` alias is the test's own connection
    (the mirror's separate connection could not see the uncommitted rows); a transactional
    test keeps it separate. After pytest-django's database setup, undone before its teardown."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and bool(
        marker.kwargs.get("transaction")
        or marker.kwargs.get("reset_sequences")
        or (marker.args and marker.args[0])
    )
    transactional = transactional or bool(_TRANSACTIONAL_FIXTURES & set(request.fixturenames))
    if REPLICA not in settings.DATABASES or marker is None or transactional:
        yield
        return
    separate = connections[REPLICA]
    connections[REPLICA] = connections["default"]
    try:
        yield
    finally:
        connections[REPLICA] = separate


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache, keyed by ids a rolled-back test hands out again:
    each test starts with an empty cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db) -> None:
    """The role groups, also after a transactional test flushed the migration's rows."""
    roles_sync()


@pytest.fixture
def password() -> str:
    return DEMO_PASSWORD


def _staff(username: str, role: Role):
    return staff_user_create(
        username=username,
        password=DEMO_PASSWORD,
        role=role,
        superuser=role is Role.ADMIN,
    )


@pytest.fixture
def loan_officer(roles):
    return _staff("t_loan_officer", Role.LOAN_OFFICER)


@pytest.fixture
def underwriter(roles):
    return _staff("t_underwriter", Role.UNDERWRITER)


@pytest.fixture
def underwriter2(roles):
    return _staff("t_underwriter2", Role.UNDERWRITER)


@pytest.fixture
def servicing_agent(roles):
    return _staff("t_servicing_agent", Role.SERVICING_AGENT)


@pytest.fixture
def collector(roles):
    return _staff("t_collector", Role.COLLECTOR)


@pytest.fixture
def admin_user(roles):
    return _staff("t_admin", Role.ADMIN)


@pytest.fixture
def borrower(roles):
    return borrower_sign_up(
        email="carol@example.com",
        password=DEMO_PASSWORD,
        first_name="Carol",
        last_name="Clark",
    )


@pytest.fixture
def other_borrower(roles):
    return borrower_sign_up(
        email="dave@example.com",
        password=DEMO_PASSWORD,
        first_name="Dave",
        last_name="Diaz",
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_api_client(api_client: APIClient):
    """An API client authenticated as a given user: `staff_api_client(user)`."""

    def _as(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return _as
