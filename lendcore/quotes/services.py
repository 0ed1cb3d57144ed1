"""Quotes: what a loan would cost, with the Truth in Lending (Regulation Z) disclosures.

Pure domain code: no request, no ORM. The money math is `lendcore.finance`'s; this module
turns the terms a borrower asks for into the kernel's `LoanTerms`, adds the fees the way
Regulation Z counts them and names the offending field when the terms are not acceptable.

Errors are `ValidationFailed` with `extra["fields"]` keyed by the public field names
(`principal`, `annual_rate`, `term`, `frequency`, `amortization`, `interest_method`,
`day_count`, `disbursement_date`, `first_due_date`, `payment_rounding`, `fees`,
`amount_financed`, `consummation_date`, `payments`, `unit`), the names the API uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from lendcore.errors import ValidationFailed
from lendcore.finance.apr import (
    UNITS_PER_YEAR,
    infer_unit_period,
    regz_apr,
    single_payment_periods_per_year,
)
from lendcore.finance.money import CENT, ZERO, round_money, to_decimal
from lendcore.finance.schedule import (
    Installment,
    LoanTerms,
    Schedule,
    build_schedule,
    level_payment,
)

# Limits shared by the API serializers, the calculator form and the checks below.
MAX_PRINCIPAL = Decimal("100000000.00")
MAX_RATE_PCT = Decimal("100")
MAX_TERM = 600
MAX_FEES = 20
# Dates far enough apart for any real loan, near enough that 600 periods stay in the calendar.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
APR_DISPLAY_PLACES = 2
APR_EXACT_PLACES = 6
SINGLE_PAYMENT_UNIT = "term"

FREQUENCIES: dict[str, str] = {
    "monthly": "Monthly",
    "semimonthly": "Twice a month",
    "biweekly": "Every two weeks",
    "weekly": "Weekly",
    "quarterly": "Quarterly",
    "semiannual": "Twice a year",
    "annual": "Yearly",
}
AMORTIZATIONS: dict[str, str] = {
    "level": "Level payments",
    "equal_principal": "Equal principal",
    "interest_only": "Interest only, principal at the end",
}
INTEREST_METHODS: dict[str, str] = {
    "declining": "Declining balance",
    "flat": "Flat (add-on)",
}
DAY_COUNTS: dict[str, str] = {
    "30/360": "30/360",
    "ACT/365F": "Actual/365 (fixed)",
    "ACT/360": "Actual/360",
    "ACT/ACT-ISDA": "Actual/Actual (ISDA)",
}
APR_UNITS: dict[str, str] = {
    "day": "Day",
    "week": "Week",
    "2week": "Two weeks",
    "4week": "Four weeks",
    "semimonth": "Half month",
    "month": "Month",
    "2month": "Two months",
    "quarter": "Quarter",
    "semiyear": "Half year",
    "year": "Year",
}
FEE_KINDS: dict[str, str] = {
    "prepaid": "Prepaid (deducted from the proceeds)",
    "financed": "Financed (added to the loan)",
}


@dataclass(frozen=True)
class Fee:
    """A finance charge: `prepaid` comes out of the proceeds, `financed` is added to the note."""

    name: str
    amount: Decimal
    kind: str


@dataclass(frozen=True)
class Quote:
    # The terms asked for.
    principal: Decimal
    annual_rate_pct: Decimal
    term: int
    frequency: str
    amortization: str
    interest_method: str
    day_count: str
    disbursement_date: date
    first_due_date: date | None
    payment_rounding: Decimal
    fees: tuple[Fee, ...]
    # What they give.
    note_principal: Decimal
    schedule: Schedule
    payment: Decimal
    installments: tuple[Installment, ...]
    total_interest: Decimal
    total_of_payments: Decimal
    prepaid_fees: Decimal
    financed_fees: Decimal
    amount_financed: Decimal
    finance_charge: Decimal
    apr: Decimal
    apr_exact: Decimal


@dataclass(frozen=True)
class AprResult:
    amount_financed: Decimal
    consummation_date: date
    unit: str
    unit_periods_per_year: Fraction
    apr: Decimal
    apr_exact: Decimal


class _Errors:
    """Collects every bad field before raising, so one answer names them all."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed.for_fields(self.fields)


# --- rules shared with the API serializers and the calculator form --------------------------


def date_error(value: date) -> str | None:
    if not MIN_DATE <= value <= MAX_DATE:
        return f"Must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."
    return None


def first_due_date_error(*, disbursement_date: date, first_due_date: date | None) -> str | None:
    if first_due_date is not None and first_due_date <= disbursement_date:
        return "Must be after disbursement_date."
    return None


def fees_error(*, principal: Decimal, fees: Iterable[Fee]) -> str | None:
    total = sum((fee.amount for fee in fees), ZERO)
    if total >= principal:
        return f"The fees ({total}) must be less than the principal ({principal})."
    return None


def fee_from(value: Fee | Mapping[str, Any]) -> Fee:
    if isinstance(value, Fee):
        return value
    amount = to_decimal(value["amount"], name="fee amount")
    return Fee(name=str(value["name"]), amount=amount, kind=str(value["kind"]))


# --- quote -----------------------------------------------------------------------------------

# Words in the kernel's ValueError messages -> the public field they are about (first match).
_KERNEL_FIELDS: tuple[tuple[str, str], ...] = (
    ("first_due_date", "first_due_date"),
    ("first due", "first_due_date"),
    ("disbursement", "disbursement_date"),
    ("payment_rounding", "payment_rounding"),
    ("rounding", "payment_rounding"),
    ("n_periods", "term"),
    ("periods", "term"),
    ("annual_rate", "annual_rate"),
    ("rate", "annual_rate"),
    ("principal", "principal"),
    ("frequency", "frequency"),
    ("amortization", "amortization"),
    ("interest_method", "interest_method"),
    ("day_count", "day_count"),
    ("day-count", "day_count"),
)


def _kernel_field(message: str, default: str) -> str:
    lowered = message.lower()
    for needle, field in _KERNEL_FIELDS:
        if needle in lowered:
            return field
    return default


def _check_choice(errors: _Errors, field: str, value: str, choices: Mapping[str, str]) -> None:
    if value not in choices:
        errors.add(field, f"{value!r} is not one of: {', '.join(choices)}.")


def quote_build(
    *,
    principal: Decimal,
    annual_rate_pct: Decimal,
    term: int,
    frequency: str,
    disbursement_date: date,
    amortization: str = "level",
    interest_method: str = "declining",
    day_count: str = "30/360",
    first_due_date: date | None = None,
    payment_rounding: Decimal = Decimal("0.01"),
    fees: Sequence[Fee | Mapping[str, Any]] = (),
) -> Quote:
    """The schedule and the Truth in Lending disclosures for a loan of `principal`.

    `principal` is the amount asked for. A financed fee is added to the note the schedule
    amortizes; a prepaid fee is deducted from the proceeds. Both are finance charges, so
    amount financed = principal - prepaid fees, finance charge = total of payments -
    amount financed, and the APR is Appendix J's on the real payment dates, consummation
    being the disbursement date.
    """
    fee_list = tuple(fee_from(fee) for fee in fees)
    errors = _Errors()
    if not (principal.is_finite() and ZERO < principal <= MAX_PRINCIPAL):
        errors.add("principal", f"Must be more than 0 and at most {MAX_PRINCIPAL:,}.")
    if not (annual_rate_pct.is_finite() and ZERO <= annual_rate_pct <= MAX_RATE_PCT):
        errors.add("annual_rate", f"Must be between 0 and {MAX_RATE_PCT} (percent a year).")
    if not 1 <= term <= MAX_TERM:
        errors.add("term", f"Must be between 1 and {MAX_TERM} payments.")
    _check_choice(errors, "frequency", frequency, FREQUENCIES)
    _check_choice(errors, "amortization", amortization, AMORTIZATIONS)
    _check_choice(errors, "interest_method", interest_method, INTEREST_METHODS)
    _check_choice(errors, "day_count", day_count, DAY_COUNTS)
    if not (payment_rounding.is_finite() and payment_rounding > 0):
        errors.add("payment_rounding", "Must be more than 0.")
    for field, value in (
        ("disbursement_date", disbursement_date),
        ("first_due_date", first_due_date),
    ):
        if value is not None and (message := date_error(value)):
            errors.add(field, message)
    if message := first_due_date_error(
        disbursement_date=disbursement_date, first_due_date=first_due_date
    ):
        errors.add("first_due_date", message)
    if len(fee_list) > MAX_FEES:
        errors.add("fees", f"At most {MAX_FEES} fees.")
    for fee in fee_list:
        if not (fee.amount.is_finite() and fee.amount > 0) or fee.kind not in FEE_KINDS:
            errors.add(
                "fees",
                f"Fee {fee.name!r}: amount must be more than 0 and kind one of "
                f"{', '.join(FEE_KINDS)}.",
            )
    if not errors.fields and (message := fees_error(principal=principal, fees=fee_list)):
        errors.add("fees", message)
    errors.raise_if_any()

    prepaid = sum((f.amount for f in fee_list if f.kind == "prepaid"), ZERO)
    financed = sum((f.amount for f in fee_list if f.kind == "financed"), ZERO)
    note_principal = principal + financed
    amount_financed = principal - prepaid

    try:
        terms = LoanTerms(
            principal=note_principal,
            annual_rate=annual_rate_pct / 100,
            n_periods=term,
            frequency=frequency,
            disbursement_date=disbursement_date,
            first_due_date=first_due_date,
            amortization=amortization,
            interest_method=interest_method,
            day_count=day_count,
            payment_rounding=payment_rounding,
        )
        schedule = build_schedule(terms)
    except (ValueError, OverflowError) as exc:
        # OverflowError, or a message naming no field: a schedule running past the
        # calendar's end, which only too many periods can do from an accepted date.
        raise ValidationFailed.for_fields({_kernel_field(str(exc), "term"): [str(exc)]}) from exc
    if payment_rounding > CENT and amortization == "level":
        # Rounding to a unit larger than the installment itself would bill a payment nobody
        # owes (the kernel never rounds below one unit) and end the schedule early.
        installment = level_payment(replace(terms, payment_rounding=CENT))
        if payment_rounding > installment:
            raise ValidationFailed.for_fields(
                {"payment_rounding": [f"Must not exceed the installment ({installment})."]}
            )

    total_of_payments = schedule.total_payments
    payments = [(item.due_date, item.payment) for item in schedule.installments]
    finance_charge = total_of_payments - amount_financed
    try:
        # No finance charge: 0 solves Appendix J's equation exactly, whatever the dates.
        apr_exact = (
            regz_apr(amount_financed, disbursement_date, payments) if finance_charge else ZERO
        )
    except (ValueError, OverflowError) as exc:
        field = "fees" if prepaid else "annual_rate"
        raise ValidationFailed.for_fields(
            {field: [f"No annual percentage rate can be disclosed for these terms: {exc}"]}
        ) from exc

    return Quote(
        principal=principal,
        annual_rate_pct=annual_rate_pct,
        term=term,
        frequency=frequency,
        amortization=amortization,
        interest_method=interest_method,
        day_count=day_count,
        disbursement_date=disbursement_date,
        first_due_date=first_due_date,
        payment_rounding=payment_rounding,
        fees=fee_list,
        note_principal=note_principal,
        schedule=schedule,
        payment=schedule.payment,
        installments=tuple(schedule.installments),
        total_interest=schedule.total_interest,
        total_of_payments=total_of_payments,
        prepaid_fees=prepaid,
        financed_fees=financed,
        amount_financed=amount_financed,
        finance_charge=finance_charge,
        apr=round_money(apr_exact, APR_DISPLAY_PLACES),
        apr_exact=apr_exact,
    )


# --- APR of a given payment stream -------------------------------------------------------------


def apr_compute(
    *,
    amount_financed: Decimal,
    consummation_date: date,
    payments: Sequence[tuple[date, Decimal]],
    unit: str | None = None,
) -> AprResult:
    """Regulation Z Appendix J APR of `payments` for `amount_financed` paid out on consummation.

    `unit` is the unit period; without it the kernel infers it from the payment dates, and
    the result reports the one used.
    """
    errors = _Errors()
    if not (amount_financed.is_finite() and ZERO < amount_financed <= MAX_PRINCIPAL):
        errors.add("amount_financed", f"Must be more than 0 and at most {MAX_PRINCIPAL:,}.")
    if message := date_error(consummation_date):
        errors.add("consummation_date", message)
    if unit is not None:
        _check_choice(errors, "unit", unit, APR_UNITS)
    if not payments:
        errors.add("payments", "At least one payment is needed.")
    for when, amount in payments:
        if not (amount.is_finite() and amount > 0):
            errors.add("payments", f"Payment of {amount} on {when}: must be more than 0.")
        if when <= consummation_date:
            errors.add("payments", f"Payment on {when}: must be after consummation_date.")
        elif message := date_error(when):
            errors.add("payments", f"Payment on {when}: {message}")
    errors.raise_if_any()

    stream = sorted(payments)
    per_year: Fraction | None = None
    if unit is None:
        used_unit, per_year = apr_unit_infer(consummation_date=consummation_date, payments=stream)
    else:
        used_unit = unit
    try:
        # The kernel infers the same unit itself; "term" is its single-payment case.
        apr_exact = regz_apr(
            amount_financed,
            consummation_date,
            stream,
            unit=None if used_unit == SINGLE_PAYMENT_UNIT else used_unit,
        )
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed.for_fields({"payments": [str(exc)]}) from exc
    return AprResult(
        amount_financed=amount_financed,
        consummation_date=consummation_date,
        unit=used_unit,
        unit_periods_per_year=per_year or Fraction(UNITS_PER_YEAR[used_unit]),
        apr=round_money(apr_exact, APR_DISPLAY_PLACES),
        apr_exact=apr_exact,
    )


def apr_unit_infer(
    *, consummation_date: date, payments: Sequence[tuple[date, Decimal]]
) -> tuple[str, Fraction | None]:
    """The unit period `regz_apr` uses when none is given, and its count per year if unusual.

    Appendix J (b)(4); a single payment due within a year of consummation makes the whole
    term the one unit period ((b)(5)(vi)-(vii)): reported as "term" with its own count.
    """
    dates = [when for when, _ in payments]
    if len(dates) == 1:
        per_year = single_payment_periods_per_year(consummation_date, dates[0])
        return (SINGLE_PAYMENT_UNIT, per_year) if per_year is not None else ("year", None)
    try:
        return infer_unit_period(consummation_date, [consummation_date], dates), None
    except ValueError as exc:
        raise ValidationFailed.for_fields({"payments": [str(exc)]}) from exc
