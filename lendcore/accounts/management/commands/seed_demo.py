from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from lendcore.accounts.demo import DEMO_BORROWERS, DEMO_PASSWORD, DEMO_STAFF, seed_demo_users
from lendcore.core.demo_registry import demo_seeders


class Command(BaseCommand):
    help = (
        "Load the demo data: users and borrowers, a loan book serviced by close of business "
        "over past business dates (every delinquency bucket), collections cases with "
        "contacts, promises and a hardship plan, and applications in every state. Idempotent."
    )

    def handle(self, *args, **options):
        if settings.LENDCORE_ENVIRONMENT == "production":
            raise CommandError("seed_demo refuses to run under the production settings.")
        created = seed_demo_users()
        if created:
            self.stdout.write(f"Created demo users: {', '.join(created)}")
        else:
            self.stdout.write("Demo users already present; nothing to create.")
        # Each app's demo data, in its DEMO_ORDER (servicing's business date and loans first).
        # The months of past nights send their reminders, statements and dunning to an outbox
        # in memory, not to the console of `make run` (they stay on the loans' pages).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            for seed in demo_seeders():
                for line in seed():
                    self.stdout.write(line)
            sent = len(mail.outbox)
        if sent:
            self.stdout.write(f"The demo's past nights sent {sent} e-mails (kept off the console).")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in DEMO_STAFF.items():
            self.stdout.write(f"  staff     {username:<16} role {role}")
        for demo in DEMO_BORROWERS:
            self.stdout.write(f"  borrower  {demo.username:<16} {demo.first_name} {demo.last_name}")
