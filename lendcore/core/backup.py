"""Backups of the database, whichever engine runs it (README "Reliability"):

- PostgreSQL: `pg_dump --format=custom`, one consistent snapshot taken in a single
  repeatable-read transaction while the application keeps running; compressed; restored with
  `pg_restore` (into a new, empty database).
- SQLite (the embedded default): SQLite's online backup API, the one that `sqlite3 .backup`
  uses: a consistent copy even while the application writes, where copying the file could
  catch a half-written page.

Connection details come from the settings (DATABASE_URL); PostgreSQL's password goes to
pg_dump in its environment (PGPASSWORD), never on a command line another user can list.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


class BackupError(Exception):
    pass


def pg_environment(settings_dict: dict[str, Any], *, database: str | None = None) -> dict[str, str]:
    """The libpq environment (PGHOST, ...) reaching this database, or `database` on its server."""
    env = {**os.environ, "PGDATABASE": database or str(settings_dict["NAME"])}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings_dict.get(key):
            env[name] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _pg_dump(settings_dict: dict[str, Any], path: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client).")
    # no shell, and every argument is ours: the path is the operator's own file name
    done = subprocess.run(  # noqa: S603
        [pg_dump, "--format=custom", f"--file={path}"],
        env=pg_environment(settings_dict),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")


def _sqlite_backup(alias: str, path: Path) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()


def database_backup(*, path: Path, alias: str = DEFAULT_DB_ALIAS) -> str:
    """Write a backup of the database `alias` to `path` (a new file); returns its engine."""
    if path.exists():
        raise BackupError(f"{path} exists: a backup never overwrites a file.")
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        _pg_dump(connections[alias].settings_dict, path)
    elif vendor == "sqlite":
        _sqlite_backup(alias, path)
    else:
        raise BackupError(f"No backup procedure for {vendor}.")
    return vendor
