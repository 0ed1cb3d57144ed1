"""Backup and restore as README "Reliability" says: a busy database (the COB acceptance's
book, payments, autopay and a charge-off, then three closed nights of accruals, fees and
webhook events) backed up with `manage.py backup_db`, restored into a new database, and
`manage.py ledger_check` run against the restored one by a separate process: it passes with
the same trial balance, account by account, and the same rows.

PostgreSQL: pg_dump's custom format, restored with pg_restore into a new database. SQLite:
the online backup API, restored by copying the backup into place."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from lendcore.accounts.roles import Role
from lendcore.accounts.services import staff_user_create
from lendcore.core.backup import pg_environment
from lendcore.webhooks.models import Event
from servicing.cob.runner import cob_close_through
from servicing.models import InterestAccrual, JournalEntry, JournalLine, Loan, Payment, Statement
from tests.cob.scenario import build_book

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


COUNTED = (Loan, Payment, InterestAccrual, JournalEntry, JournalLine, Statement, Event)
COUNT_SQL = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {model._meta.db_table})" for model in COUNTED
)


def _counts_here() -> list[int]:
    return [model.objects.count() for model in COUNTED]


def _busy_database(borrower, admin_user) -> dict:
    """Fills the database and returns what a faithful restore must show: the row counts and
    loans' state (the COB snapshot) and the trial balance printed by ledger_check."""
    second = staff_user_create(
        username="t_admin2", password="lendcore-demo", role=Role.ADMIN, superuser=True
    )
    build_book(borrower, admin_user, second)
    cob_close_through(through=date(2026, 6, 17))
    assert InterestAccrual.objects.count() > 20
    assert Payment.objects.count() >= 4
    assert Event.objects.exists()
    return {"counts": _counts_here(), "ledger_check": _ledger_check_here()}


def _ledger_check_here() -> str:
    out = StringIO()
    call_command("ledger_check", "--trial-balance", stdout=out)
    return out.getvalue()


def _ledger_check_on(database_url: str) -> str:
    """`manage.py ledger_check --trial-balance` in another process, on another database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lendcore.settings.test",
        "DATABASE_URL": database_url,
        "DATABASE_REPLICA_URL": "",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "ledger_check", "--trial-balance"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.postgres
def test_a_pg_dump_restored_into_a_new_database_has_the_same_trial_balance(
    borrower, admin_user, tmp_path
):
    # Given a busy database
    before = _busy_database(borrower, admin_user)
    assert "ledger_check: OK" in before["ledger_check"]

    # When it is backed up with backup_db (pg_dump -Fc) and restored with pg_restore into a
    # new database
    dump = tmp_path / "lendcore.dump"
    call_command("backup_db", str(dump), stdout=StringIO())
    restored = f"{connection.settings_dict['NAME']}_restored"
    env = pg_environment(connection.settings_dict, database="postgres")
    psql = ["psql", "--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1"]
    subprocess.run([*psql, "-c", f'DROP DATABASE IF EXISTS "{restored}"'], env=env, check=True)
    subprocess.run([*psql, "-c", f'CREATE DATABASE "{restored}"'], env=env, check=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            env=env,
            check=True,
            capture_output=True,
        )
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{restored}"
        )

        # Then ledger_check passes on the restored database with the same trial balance
        assert _ledger_check_on(url) == before["ledger_check"]
        counts = subprocess.run(
            [*psql, "-AtF,", "-c", COUNT_SQL, f"--dbname={restored}"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        assert [int(n) for n in counts.stdout.strip().split(",")] == before["counts"]
    finally:
        subprocess.run([*psql, "-c", f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'], env=env)


@pytest.mark.sqlite
def test_an_sqlite_online_backup_restores_with_the_same_trial_balance(
    borrower, admin_user, tmp_path
):
    before = _busy_database(borrower, admin_user)
    backup = tmp_path / "backup.sqlite3"
    call_command("backup_db", str(backup), stdout=StringIO())
    with sqlite3.connect(backup) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = tmp_path / "restored.sqlite3"
    restored.write_bytes(backup.read_bytes())  # restore: the app stopped, the file put back
    assert _ledger_check_on(f"sqlite:///{restored}") == before["ledger_check"]
    with sqlite3.connect(restored) as copy:
        assert list(copy.execute(COUNT_SQL).fetchone()) == before["counts"]


def test_a_backup_never_overwrites_a_file(tmp_path, db):
    existing = tmp_path / "taken"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match="never overwrites"):
        call_command("backup_db", str(existing))
    assert existing.read_text() == "keep me"
