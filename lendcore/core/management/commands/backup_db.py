"""Back the database up to a file: pg_dump's custom format on PostgreSQL, SQLite's online
backup on SQLite (README "Reliability" has the restore procedure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from lendcore.core.backup import BackupError, database_backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database to PATH while the application runs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The backup file to write (must not exist).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            vendor = database_backup(path=path, alias=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"backup_db: {vendor} backup written to {path} ({path.stat().st_size} bytes)"
        )
