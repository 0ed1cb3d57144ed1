"""One loan as of a past business date D (issue 13): `GET /api/v1/loans/{id}/?as_of=D` and the
staff loan page's date picker.

As the books stood at the close of D: the loan tape's row for the loan (servicing.loan_tape,
the one reader of balances, paid to date, status, days past due, bucket and next due), read
with journal entries recorded on or before D (a reversal or backdated payment recorded
later is not in D's books), and the schedule state on D:

- the schedule version: the newest one effective on or before D (the tape's rule);
- each installment's amounts paid and cancelled by D: the allocations (payment and credit
  applications' `detail`) recorded on or before D and not reversed by D (a replay or a
  returned payment reverses an application with a journal entry dated when it happened);
- its principal due: today's, less the true-ups of applications live today, plus those of
  applications live at D (true-ups travel with the application that made them);
- its state on D: `calculations.installment_status` with the loan's grace days.

A fixed number of indexed queries whatever the loan's age: the tape's six for one loan, the
schedule version, its installments, and the applications live today or at D (a few per
payment: the daily accruals are summed by the database, never read row by row).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F, Q

from lendcore.core.replica import replica_alias
from lendcore.finance.money import ZERO

from .calculations import installment_status
from .errors import ServicingValidationError
from .loan_tape import RECORDED, loan_tape_rows
from .models import CreditApplication, Installment, Loan, PaymentApplication, ScheduleVersion
from .selectors import business_date_get

FIELD = "as_of"


@dataclass(frozen=True)
class InstallmentAsOf:
    number: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    fee_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    fee_paid: Decimal
    cancelled: Decimal
    status: str

    @property
    def total_due(self) -> Decimal:
        return self.principal_due + self.interest_due + self.fee_due

    @property
    def total_paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid + self.fee_paid

    @property
    def remaining(self) -> Decimal:
        return self.total_due - self.total_paid - self.cancelled


def as_of_validate(loan: Loan, as_of: date) -> None:
    """400 naming `as_of` for a date the books cannot answer: after the business date, or
    before the loan was disbursed."""
    business_date = business_date_get()
    if as_of > business_date:
        raise ServicingValidationError.field(
            FIELD, f"Must be on or before the business date ({business_date.isoformat()})."
        )
    if as_of < loan.disbursed_on:
        raise ServicingValidationError.field(
            FIELD, f"Must be on or after the disbursement date ({loan.disbursed_on.isoformat()})."
        )


def loan_as_of(loan: Loan, as_of: date) -> dict[str, Any]:
    """The loan's tape row as of D (as recorded at its close) with `as_of`, `schedule_version`
    and `schedule` (InstallmentAsOf, in order)."""
    as_of_validate(loan, as_of)
    (row,) = loan_tape_rows(as_of=as_of, loan_ids=[loan.pk], basis=RECORDED)
    version, schedule = _schedule(loan, as_of)
    return {**row, "as_of": as_of, "schedule_version": version, "schedule": schedule}


def _schedule(loan: Loan, as_of: date) -> tuple[int | None, list[InstallmentAsOf]]:
    alias = replica_alias()
    version = (
        ScheduleVersion.objects.using(alias)
        .filter(loan_id=loan.pk, effective_date__lte=as_of)
        .order_by("-version")
        .values("id", "version")
        .first()
    )
    if version is None:
        return None, []
    rows = list(
        Installment.objects.using(alias)
        .filter(schedule_id=version["id"])
        .order_by("number")
        .values("id", "number", "due_date", "principal_due", "interest_due", "fee_due")
    )
    then, now = _allocations(loan, as_of, alias=alias)
    grace = loan.late_fee_grace_days
    result = []
    for row in rows:
        paid, today = then[row["id"]], now[row["id"]]
        principal_due = row["principal_due"] - today["principal_due"] + paid["principal_due"]
        inst = InstallmentAsOf(
            number=row["number"],
            due_date=row["due_date"],
            principal_due=principal_due,
            interest_due=row["interest_due"],
            fee_due=row["fee_due"],
            principal_paid=paid["principal"],
            interest_paid=paid["interest"],
            fee_paid=paid["fee"],
            cancelled=paid["cancelled"],
            status="",
        )
        status = installment_status(
            remaining=inst.remaining,
            total_paid=inst.total_paid,
            due_date=inst.due_date,
            on=as_of,
            grace_days=grace,
        )
        result.append(InstallmentAsOf(**{**inst.__dict__, "status": status}))
    return version["version"], result


Sums = defaultdict[int, defaultdict[str, Decimal]]

_ITEM_KEYS = ("principal", "interest", "fee", "cancelled", "principal_due")


def _allocations(loan: Loan, as_of: date, *, alias: str) -> tuple[Sums, Sums]:
    """Per installment id, the detail amounts of the applications live at the close of D and
    of those live today: two queries (payments' and credit's applications)."""
    recorded = Q(entry__business_date__lte=as_of)
    then: Sums = defaultdict(lambda: defaultdict(lambda: ZERO))
    now: Sums = defaultdict(lambda: defaultdict(lambda: ZERO))
    for model in (PaymentApplication, CreditApplication):
        rows = (
            model.objects.using(alias)
            .filter(loan_id=loan.pk)
            .filter(Q(reversed=False) | (recorded & Q(entry__reversed_by__business_date__gt=as_of)))
            .annotate(
                recorded_on=F("entry__business_date"),
                reversed_on=F("entry__reversed_by__business_date"),
            )
            .values("detail", "reversed", "recorded_on", "reversed_on")
        )
        for row in rows:
            reversed_then = row["reversed"] and (
                row["reversed_on"] is None or row["reversed_on"] <= as_of
            )
            live_then = row["recorded_on"] <= as_of and not reversed_then
            targets = ([then] if live_then else []) + ([now] if not row["reversed"] else [])
            for item in row["detail"]:
                if "installment" not in item:
                    continue
                for target in targets:
                    sums = target[item["installment"]]
                    for key in _ITEM_KEYS:
                        if key in item:
                            sums[key] += Decimal(item[key])
    return then, now
