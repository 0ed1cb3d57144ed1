"""Write the daily ledger and payment totals of past business dates (a book that was running
before close of business wrote them, or a day in doubt), the same way close of business does."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from servicing.daily_totals import daily_totals_write
from servicing.models import CobRun

# a month a transaction: a year of a million loans' lines is not one statement's work
CHUNK_DAYS = 31


class Command(BaseCommand):
    help = (
        "Write the daily ledger totals (debits and credits by product, entry type and "
        "account) and payment totals (by product and method) of each business date from "
        "--from to --to (default: the last day close of business closed), replacing any "
        "written before."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat, default=None)

    def handle(self, *args, date_from: date, date_to: date | None, **options):
        # only days before the last close: the business date can be set back to any day
        # after it, and a day written then gets lines its totals would not have
        last_closed = (
            CobRun.objects.filter(status=CobRun.Status.SUCCEEDED)
            .order_by("-business_date")
            .values_list("business_date", flat=True)
            .first()
        )
        if last_closed is None:
            raise CommandError("Close of business has closed no day yet: nothing to write.")
        date_to = date_to or last_closed
        if date_to > last_closed:
            raise CommandError(f"--to must be a closed day (on or before {last_closed}).")
        if date_from > date_to:
            raise CommandError("--from must be on or before --to.")
        day, rows = date_from, 0
        while day <= date_to:
            last = min(day + timedelta(days=CHUNK_DAYS - 1), date_to)
            rows += daily_totals_write(day, last, source="backfill")
            day = last + timedelta(days=1)
        days = (date_to - date_from).days + 1
        self.stdout.write(f"backfill_ledger_totals: {days} day(s), {rows} row(s)")
