from datetime import date

from django.core.management.base import BaseCommand, CommandError

from servicing.selectors import business_date_get
from servicing.services import statements_generate_due


class Command(BaseCommand):
    help = (
        "Generate the statements of every loan whose cycle date is --date "
        "(default: the business date)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD; defaults to the business date")

    def handle(self, *args, **options):
        raw = options.get("date")
        try:
            on = date.fromisoformat(raw) if raw else business_date_get()
        except ValueError as error:
            raise CommandError(f"--date: {error}") from None
        statements = statements_generate_due(on=on)
        for statement in statements:
            self.stdout.write(f"{statement.loan.loan_number} statement {statement.period_end}")
        self.stdout.write(f"{len(statements)} statement(s) for {on.isoformat()}")
