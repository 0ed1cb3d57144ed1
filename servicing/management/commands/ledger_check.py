from django.core.management.base import BaseCommand

from servicing.ledger import ledger_problems, trial_balance


class Command(BaseCommand):
    help = (
        "Prove the ledger: every entry balances, the trial balance sums to zero and every "
        "loan's cached balances equal its ledger. Exit 0 when sound, 1 listing what is off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--trial-balance",
            action="store_true",
            help="Also print each account's balance (compare them before a backup and after a "
            "restore).",
        )

    def handle(self, *args, **options):
        problems = ledger_problems()
        if problems:
            for line in problems:
                self.stderr.write(line)
            self.stderr.write(f"ledger_check: {len(problems)} problem(s)")
            raise SystemExit(1)
        accounts = trial_balance()
        if options["trial_balance"]:
            for account, balance in accounts.items():
                self.stdout.write(f"{account} {balance}")
        self.stdout.write(f"ledger_check: OK ({len(accounts)} accounts, trial balance 0.00)")
