"""Rebuild the portfolio snapshots of past business dates from the ledger (a book that was
running before close of business wrote them, or a day whose snapshot is in doubt), and the
month ends among them (each loan at the month end, the roll-rate and vintage cells)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from servicing.models import LoanMonthEnd
from servicing.month_ends import (
    is_month_end,
    month_end_cells_write,
    month_end_rebuild,
    previous_month_end,
)
from servicing.selectors import business_date_get
from servicing.snapshots import portfolio_snapshot_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the portfolio snapshots (and the day's flows) of each business date from "
        "--from to --to (default: the last closed day) from the ledger and the loans' history, "
        "and each month end among them (loans at the month end, roll-rate and vintage cells)."
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
        day, days, rows, month_ends = date_from, 0, 0, 0
        while day <= date_to:
            rows += portfolio_snapshot_rebuild(day)
            if is_month_end(day):  # in order: a month end's rolls read the one before
                month_end_rebuild(day)
                month_ends += 1
            days += 1
            day += timedelta(days=1)
        # the month end after the range rolls from the last one rebuilt: its cells again
        following = previous_month_end(date_to + timedelta(days=32))
        if month_ends and LoanMonthEnd.objects.filter(month_end=following).exists():
            month_end_cells_write(following)
        self.stdout.write(
            f"backfill_snapshots: {days} day(s), {rows} snapshot row(s), {month_ends} month end(s)"
        )
