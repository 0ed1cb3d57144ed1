"""What every step shares: the scope (a loan id range and a day), SQL text, the step clock."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from lendcore.finance.money import ACCRUAL_PLACES, MONEY_PLACES
from servicing.models import (
    Account,
    EntryType,
    Fee,
    Installment,
    InstallmentStatus,
    Loan,
)

ONE_DAY = timedelta(days=1)


# What the set-based SQL names: account codes, entry types and statuses from the models'
# enums, rounding places from lendcore.finance (PostgreSQL's round(numeric, n) rounds half
# away from zero, which is ROUND_HALF_UP). Each statement is formatted with these once.
SQL_NAMES = {
    "cash": Account.CASH.value,
    "principal_account": Account.PRINCIPAL.value,
    "interest_account": Account.INTEREST.value,
    "fees_account": Account.FEES.value,
    "suspense_account": Account.SUSPENSE.value,
    "income_account": Account.INTEREST_INCOME.value,
    "fee_income_account": Account.FEE_INCOME.value,
    "accrual_type": EntryType.ACCRUAL.value,
    "fee_type": EntryType.FEE.value,
    "fee_waiver_type": EntryType.FEE_WAIVER.value,
    "fee_reversal_type": EntryType.FEE_REVERSAL.value,
    "release_type": EntryType.SUSPENSE_RELEASE.value,
    "late": Fee.Kind.LATE.value,
    "money_places": MONEY_PLACES,
    "accrual_places": ACCRUAL_PLACES,
    "paid": InstallmentStatus.PAID.value,
    "due": InstallmentStatus.DUE.value,
    "overdue": InstallmentStatus.OVERDUE.value,
    "upcoming": InstallmentStatus.UPCOMING.value,
    "partially_paid": InstallmentStatus.PARTIALLY_PAID.value,
}


def sql_text(template: str, **parts: str) -> str:
    """A statement with the shared names (`SQL_NAMES`) and its own parts filled in."""
    return template.format(**SQL_NAMES, **parts)


@dataclass(frozen=True)
class Scope:
    lo: int
    hi: int
    day: date  # the day being closed
    business_date: date  # the run's date (entries' business date)

    @property
    def never_closed_as(self) -> date:
        return self.business_date - ONE_DAY

    def loans(self) -> QuerySet[Loan]:
        unclosed = Q(last_closed_on__lt=self.day)
        if self.never_closed_as < self.day:  # a loan never closed joins on the run's date
            unclosed |= Q(last_closed_on__isnull=True)
        return Loan.objects.filter(
            unclosed, pk__gte=self.lo, pk__lte=self.hi, disbursed_on__lte=self.day
        )

    def installments(self) -> QuerySet[Installment]:
        """Current-schedule installments of the scope's active loans, filtered on the range and
        joined to the loan (not `loan IN (subquery)`, which the planner turns into a loop)."""
        unclosed = Q(loan__last_closed_on__lt=self.day)
        if self.never_closed_as < self.day:
            unclosed |= Q(loan__last_closed_on__isnull=True)
        return Installment.objects.filter(
            unclosed,
            loan_id__gte=self.lo,
            loan_id__lte=self.hi,
            loan__status=Loan.Status.ACTIVE,
            loan__disbursed_on__lte=self.day,
            schedule__is_current=True,
        )

    def sql(self, alias: str = "l") -> tuple[str, dict]:
        where = (
            f"{alias}.id BETWEEN %(lo)s AND %(hi)s AND {alias}.disbursed_on <= %(day)s "
            f"AND COALESCE({alias}.last_closed_on, %(never)s) < %(day)s"
        )
        return where, {
            "lo": self.lo,
            "hi": self.hi,
            "day": self.day,
            "never": self.never_closed_as,
            "bd": self.business_date,
        }


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


class StepClock:
    """Per-step counts and seconds of one scope."""

    def __init__(self) -> None:
        self.stats: dict[str, dict[str, float]] = {}

    def record(self, step: str, count: int, started: float | None) -> None:
        row = self.stats.setdefault(step, {"count": 0, "seconds": 0.0})
        row["count"] += count
        if started is not None:
            row["seconds"] += time.perf_counter() - started

    def merge(self, other: dict[str, dict[str, float]]) -> None:
        for step, row in other.items():
            mine = self.stats.setdefault(step, {"count": 0, "seconds": 0.0})
            mine["count"] += row.get("count", 0)
            mine["seconds"] += row.get("seconds", 0.0)


def remaining_sql(alias: str) -> str:
    """An installment's remaining amount in SQL (`Installment.remaining`)."""
    a = alias
    return (
        f"({a}.principal_due + {a}.interest_due + {a}.fee_due - {a}.principal_paid"
        f" - {a}.interest_paid - {a}.fee_paid - {a}.cancelled)"
    )
