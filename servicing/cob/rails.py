"""Payment rail adapters (PAYMENT_RAIL_BACKEND). Autopay debits and the borrowers' one-time
payments go through `debit`; COB asks `settlement` on the settle date.

`SandboxRail` (the default) is deterministic. An autopay debit settles
SANDBOX_RAIL_SETTLE_DAYS (default 2) days after it was made; a one-time payment
(`kind="one_time"`) settles SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS (default 0) days after the
close of business that sends it, i.e. at that same close of business. The documented NSF
test accounts: any account number (or debit card number) ending in 0001 or 0002, or listed
in SANDBOX_RAIL_NSF_ACCOUNTS, comes back returned with code R01 (insufficient funds) on the
settle date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string

NSF_SUFFIXES = ("0001", "0002")
AUTOPAY = "autopay"
ONE_TIME = "one_time"


@dataclass(frozen=True)
class DebitResult:
    reference: str
    settle_on: date


@dataclass(frozen=True)
class Settlement:
    status: str  # "pending", "settled", "returned"
    return_code: str = ""


class PaymentRail:
    name = "rail"

    def debit(
        self,
        *,
        account_number: str,
        routing_number: str,
        amount: Decimal,
        on: date,
        reference: str,
        kind: str = AUTOPAY,
    ) -> DebitResult:
        raise NotImplementedError

    def settlement(
        self, *, reference: str, account_number: str, settle_on: date, on: date
    ) -> Settlement:
        raise NotImplementedError

    def one_time_settle_on(self, on: date) -> date:
        """When a one-time debit sent by the close of business of `on` is expected to settle
        (what the borrower is told; `debit` answers the actual date)."""
        raise NotImplementedError


class SandboxRail(PaymentRail):
    name = "sandbox"

    def debit(
        self, *, account_number, routing_number, amount, on, reference, kind=AUTOPAY
    ) -> DebitResult:
        if kind == ONE_TIME:
            settle_on = self.one_time_settle_on(on)
        else:
            settle_on = on + timedelta(days=int(getattr(settings, "SANDBOX_RAIL_SETTLE_DAYS", 2)))
        return DebitResult(reference=f"SBX-{reference}", settle_on=settle_on)

    def settlement(self, *, reference, account_number, settle_on, on) -> Settlement:
        if on < settle_on:
            return Settlement("pending")
        nsf = set(getattr(settings, "SANDBOX_RAIL_NSF_ACCOUNTS", ()))
        if account_number in nsf or account_number.endswith(NSF_SUFFIXES):
            return Settlement("returned", "R01")
        return Settlement("settled")

    def one_time_settle_on(self, on: date) -> date:
        days = int(getattr(settings, "SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS", 0))
        return on + timedelta(days=days)


def payment_rail() -> PaymentRail:
    path = getattr(settings, "PAYMENT_RAIL_BACKEND", "servicing.cob.rails.SandboxRail")
    return import_string(path)()
