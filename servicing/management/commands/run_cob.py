"""`manage.py run_cob [--date YYYY-MM-DD]`: close of business by hand.

Without --date: closes the current business date. With --date D: closes every unclosed day
from the current business date through D, in order; a day already closed is a no-op that
says so (exit 0). A failed day (broker or worker down, failed loans) exits 1 with the
reason; nothing is marked closed that was not, and the same command later finishes it.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from lendcore.errors import Conflict
from servicing.cob.runner import CobDispatchError, cob_close_through
from servicing.selectors import business_date_get


class Command(BaseCommand):
    help = "Run close of business for the business date, or catch up through --date."

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="through", type=date.fromisoformat, default=None)
        parser.add_argument(
            "--timeout", type=float, default=None, help="seconds to wait for the workers"
        )

    def handle(self, *args, through=None, timeout=None, **options):
        through = through or business_date_get()
        try:
            results = cob_close_through(through=through, trigger="command", wait_timeout=timeout)
        except CobDispatchError as error:
            raise CommandError(
                f"Close of business could not start (broker down?): {error}"
            ) from None
        except Conflict as error:
            raise CommandError(error.message) from None
        for day, outcome, run in results:
            if outcome == "already closed":
                self.stdout.write(f"{day.isoformat()} is already closed; nothing to do.")
            elif outcome == "closed" and run is not None:
                rate = run.loans_per_second
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{day.isoformat()} closed: {run.loans_done} loans in "
                        f"{run.seconds or 0:.2f} s"
                        + (f" ({rate:,.0f} loans/s)" if rate else "")
                        + f", {run.partitions_total} partitions (run {run.pk})"
                    )
                )
            else:
                raise CommandError(
                    f"{day.isoformat()} failed (run {run.pk if run else '-'}): "
                    f"{run.error if run else ''}"
                )
        self.stdout.write(f"Business date is now {business_date_get().isoformat()}.")
