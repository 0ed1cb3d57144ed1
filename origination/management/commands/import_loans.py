"""`manage.py import_loans FILE [--payments FILE] [--valid-only] [--dry-run] [--json]`."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from origination.services.loan_import import loan_import_create, loan_import_run


class Command(BaseCommand):
    help = (
        "Import a portfolio of loans migrated from another system (docs/import.md). Every row "
        "is validated first; any error imports nothing (exit 1 with the report) unless "
        "--valid-only."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--payments", type=Path, help="the payment history CSV")
        parser.add_argument("--valid-only", action="store_true", help="import the valid rows")
        parser.add_argument("--dry-run", action="store_true", help="validate only")
        parser.add_argument("--user", help="record the import as this user's (default: none)")
        parser.add_argument("--json", action="store_true", help="print the error report as JSON")

    def handle(self, *args, **options):
        try:
            content = options["file"].read_bytes()
            payments = options["payments"].read_bytes() if options["payments"] else None
        except OSError as error:
            raise CommandError(str(error)) from None
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        job = loan_import_create(
            content=content,
            payments_content=payments,
            file_name=options["file"].name,
            valid_only=options["valid_only"],
            dry_run=options["dry_run"],
            acting_user=user,
            enqueue=False,
        )
        job = loan_import_run(import_id=job.pk)
        if options["json"]:
            self.stdout.write(json.dumps(job.errors, indent=1))
        else:
            for e in job.errors:
                column = e["column"] or "-"
                self.stderr.write(
                    f"{e['file']} row {e['row']} {column}: {e['code']}: {e['message']}"
                )
        summary = (
            f"import {job.pk}: {job.status}; rows {job.total_rows}, imported "
            f"{job.imported_rows}, rows with errors {job.error_rows}. {job.message}"
        )
        if job.status != job.Status.SUCCEEDED:
            raise CommandError(summary)
        self.stdout.write(summary)
