"""Fault injection: a PostgreSQL backend terminated in the middle of a transaction, a broker
that is not there. The fixtures of the areas under test are imported, not copied."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from django.db import connections

from lendcore.core.sqlrows import statement_text
from servicing.ledger import ledger_problems, trial_balance
from tests.cob.conftest import book, second_admin  # noqa: F401 (fixtures)
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    _media,
    accepted,
    decided,
    make_applicant,
    make_application,
    product,
)
from tests.servicing.conftest import business_date  # noqa: F401 (fixture)


def _terminate(alias: str, pid: int) -> None:
    """Terminate backend `pid` from a connection of our own, waiting until it is gone (the
    PostgreSQL 14+ form with a timeout), as an administrator or a failover would."""
    params = connections[alias].get_connection_params()
    killer = psycopg2.connect(
        dbname=params.get("database") or params.get("dbname"),
        user=params.get("user"),
        password=params.get("password"),
        host=params.get("host"),
        port=params.get("port"),
    )
    killer.autocommit = True
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone() == (True,), f"backend {pid} did not end"
    finally:
        killer.close()


@contextmanager
def backend_killed_after(
    statement: str, *, times: int | None = 1, alias: str = "default"
) -> Iterator[list[int]]:
    """Terminate the connection's PostgreSQL backend right after each of the first `times`
    statements (every one when None) whose SQL contains `statement` has run, inside its
    transaction: the statement's rows are written but not committed, and the next statement
    meets a dead connection. Yields the list of the backend ids killed."""
    killed: list[int] = []

    def kill_after(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        # a prepared statement (`sqlrows.execute`) runs as EXECUTE: match what it prepared
        if statement in statement_text(sql) and (times is None or len(killed) < times):
            pid = context["connection"].connection.get_backend_pid()
            _terminate(alias, pid)
            killed.append(pid)
        return result

    with connections[alias].execute_wrapper(kill_after):
        yield killed


def assert_ledger_sound() -> dict:
    """What `manage.py ledger_check` proves; returns the trial balance (account: balance)."""
    problems = ledger_problems()
    assert not problems, "ledger_check failed:\n" + "\n".join(problems)
    return trial_balance()
