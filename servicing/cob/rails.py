"""Payment rail adapters (PAYMENT_RAIL_BACKEND). Autopay debits go through `debit`; COB asks
`settlement` on the settle date.

`SandboxRail` (the default) is deterministic: a debit settles SANDBOX_RAIL_SETTLE_DAYS
(default 2) days after it was made, except from the documented NSF test accounts: any
account number ending in 0001 or 0002 (or listed in SANDBOX_RAIL_NSF_ACCOUNTS) comes back
returned with code R01 (insufficient funds) on the settle date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string

NSF_SUFFIXES = ("0001", "0002")


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
        self, *, account_number: str, routing_number: str, amount: Decimal, on: date, reference: str
    ) -> DebitResult:
        raise NotImplementedError

    def settlement(
        self, *, reference: str, account_number: str, settle_on: date, on: date
    ) -> Settlement:
        raise NotImplementedError


class SandboxRail(PaymentRail):
    name = "sandbox"

    def debit(self, *, account_number, routing_number, amount, on, reference) -> DebitResult:
        days = int(getattr(settings, "SANDBOX_RAIL_SETTLE_DAYS", 2))
        return DebitResult(reference=f"SBX-{reference}", settle_on=on + timedelta(days=days))

    def settlement(self, *, reference, account_number, settle_on, on) -> Settlement:
        if on < settle_on:
            return Settlement("pending")
        nsf = set(getattr(settings, "SANDBOX_RAIL_NSF_ACCOUNTS", ()))
        if account_number in nsf or account_number.endswith(NSF_SUFFIXES):
            return Settlement("returned", "R01")
        return Settlement("settled")


def payment_rail() -> PaymentRail:
    path = getattr(settings, "PAYMENT_RAIL_BACKEND", "servicing.cob.rails.SandboxRail")
    return import_string(path)()
