"""Rebuild the portfolio snapshots of past business dates from the ledger (a book that was
running before close of business wrote them, or a day whose snapshot is in doubt)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from servicing.selectors import business_date_get
from servicing.snapshots import portfolio_snapshot_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the portfolio snapshots (and the day's flows) of each business date from "
        "--from to --to (default: the last closed day) from the ledger and the loans' history."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat, default=None)

    def handle(self, *args, date_from: date, date_to: date | None, **options):
        last_closed = business_date_get() - timedelta(days=1)
        date_to = date_to or last_closed
        if date_to > last_closed:
            raise CommandError(f"--to must be a closed day (on or before {last_closed}).")
        if date_from > date_to:
            raise CommandError("--from must be on or before --to.")
        day, days, rows = date_from, 0, 0
        while day <= date_to:
            rows += portfolio_snapshot_rebuild(day)
            days += 1
            day += timedelta(days=1)
        self.stdout.write(f"backfill_snapshots: {days} day(s), {rows} snapshot row(s)")
