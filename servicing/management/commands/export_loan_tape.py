"""`manage.py export_loan_tape --as-of D --format csv|parquet --output FILE`."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lendcore.errors import ApplicationError
from servicing import selectors
from servicing.loan_tape import loan_tape_rows
from servicing.loan_tape_export import TapeFormat, loan_tape_write


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--as-of: enter a date as YYYY-MM-DD, not {raw!r}.") from exc


class Command(BaseCommand):
    help = (
        "Write the loan tape (every loan disbursed by the date, as of that date; columns in "
        "docs/loan_tape.md) to a CSV or Parquet file. Reads the replica when configured."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=_date, help="YYYY-MM-DD (default: business date)")
        parser.add_argument("--format", choices=[f.value for f in TapeFormat], default="csv")
        parser.add_argument("--product", default=None, help="only this product code")
        parser.add_argument("--output", required=True, help="the file to write")

    def handle(self, *args, **options):
        as_of = options["as_of"] or selectors.business_date_get()
        try:
            rows = loan_tape_rows(as_of=as_of, product=options["product"])
        except ApplicationError as exc:
            raise CommandError(f"--as-of: {exc}") from exc
        counted = _Counter(rows)
        with open(options["output"], "wb") as out:
            loan_tape_write(out, counted, options["format"])
        self.stdout.write(
            f"export_loan_tape: {counted.n} loans as of {as_of.isoformat()} "
            f"({options['format']}) -> {options['output']}"
        )


class _Counter:
    """The rows passed through, counted."""

    def __init__(self, rows):
        self.rows = rows
        self.n = 0

    def __iter__(self):
        for row in self.rows:
            self.n += 1
            yield row
