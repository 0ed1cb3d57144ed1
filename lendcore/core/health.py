"""Readiness checks behind `/readyz`: can this process serve (database, broker, schema)?

Each check returns None when it passes, or a short reason when it fails. The reasons go to an
unauthenticated caller (a load balancer, docker's health check), so they name what failed and
never echo an address, a password or an exception's text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from kombu import Connection

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def database_check() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        # (Django drops a broken session itself when the request finishes)
        logger.warning("readiness: database unreachable: %r", error)
        return f"database unreachable ({type(error).__name__})"
    return None


def broker_check() -> str | None:
    """Without a broker (the embedded default) tasks run in-process: nothing to reach."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return None
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
            )
    except Exception as error:
        logger.warning("readiness: broker unreachable: %r", error)
        return f"broker unreachable ({type(error).__name__})"
    return None


def migrations_check() -> str | None:
    """Code newer than the schema (a release before its `migrate`) must not take traffic."""
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:
        logger.warning("readiness: migrations not readable: %r", error)
        return f"migrations not readable ({type(error).__name__})"
    if plan:
        return f"{len(plan)} unapplied migration(s)"
    return None


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": database_check,
    "broker": broker_check,
    "migrations": migrations_check,
}


def readiness() -> dict[str, str | None]:
    """Every check's outcome by name (None: passed). The migrations check needs the database:
    when that is down it is reported as not run rather than as a second failure."""
    outcome: dict[str, str | None] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and outcome.get("database"):
            outcome[name] = "not checked (database unreachable)"
            continue
        outcome[name] = check()
    return outcome
