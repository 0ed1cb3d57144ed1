"""Servicing's money rules, each written once, pure: no ORM, no settings, no I/O.

Every path that applies one of these rules calls it from here: the per-loan services
(payments, replays, fees, credit), close of business's Python path, and the selectors that
show amounts. Close of business's set-based SQL cannot call Python per row; it takes its
account codes and rounding from the same enums and constants, and differential tests pin
each SQL statement to the function here (tests/cob/test_*_sql.py).

- `day_interest`: one day's interest of a loan (the accrual).
- `waterfall`: how an amount is split between fees, interest and principal.
- `fill_installment`: how a payment's regular part fills an installment.
- `installment_status`: upcoming, due, partially paid, paid or overdue on a date.
- `late_fee_amount` and `late_fee_due`: the late fee, and whether it may be charged.
- `final_interest_due` and `principal_true_up`: the true-up of the final installment.
- `recovery_split`: what of a recovery is recovered, what is the borrower's credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from lendcore.finance.daycount import accrual_day_fraction_parts
from lendcore.finance.money import ACCRUAL_PLACES, ZERO, round_money

ACCRUAL_ZERO = Decimal("0.000000")

# Interest models (servicing.models.InterestModel's values).
DAILY_SIMPLE = "daily_simple"
SCHEDULED = "scheduled"

# Installment statuses (servicing.models.InstallmentStatus's values).
UPCOMING = "upcoming"
DUE = "due"
PARTIALLY_PAID = "partially_paid"
PAID = "paid"
OVERDUE = "overdue"

DEFAULT_ORDER = ("fees", "interest", "principal")


# --------------------------------------------------------------------------- accrual


@dataclass(frozen=True)
class Period:
    """An installment's period for the `scheduled` model: (start, end] and the scheduled
    interest still to be recognised over it (as billed, before any true-up)."""

    start: date  # exclusive
    end: date  # inclusive (the due date)
    interest: Decimal


def day_interest(
    *,
    interest_model: str,
    principal_balance: Decimal,
    annual_rate: Decimal,
    day_count: str,
    day: date,
    periods: Sequence[Period] = (),
) -> Decimal:
    """Interest for the day ending on `day` (from day - 1 to day), to ACCRUAL_PLACES.

    `daily_simple`: balance x rate x the day's share of a year under the loan's day count
    (`accrual_day_fraction_parts`: the days of a period add up to its year fraction).
    `scheduled`: the current installment's scheduled interest spread evenly over its
    period's days, the due date taking the remainder so that the period sums exactly.
    """
    if principal_balance <= 0:
        return ACCRUAL_ZERO
    if interest_model == DAILY_SIMPLE:
        numerator, denominator = accrual_day_fraction_parts(day, day_count)
        exact = Fraction(principal_balance) * Fraction(annual_rate) * numerator / denominator
        return round_money(exact, ACCRUAL_PLACES)
    for period in periods:
        if period.start < day <= period.end:
            days = (period.end - period.start).days
            share = round_money(Fraction(period.interest) / days, ACCRUAL_PLACES)
            if day == period.end:
                return period.interest - share * (days - 1)
            return share
    return ACCRUAL_ZERO


def posting(*, posted_before: Decimal, cumulative_exact: Decimal) -> Decimal:
    """What a day's accrual posts to the ledger in whole cents: the rounded cumulative exact
    interest less what was posted before (never negative), so that after any day posted
    interest == round_money(cumulative exact interest)."""
    return max(round_money(cumulative_exact) - posted_before, ZERO)


# --------------------------------------------------------------------------- waterfall


@dataclass(frozen=True)
class OpenFee:
    id: int
    outstanding: Decimal
    late: bool = False


@dataclass(frozen=True)
class Split:
    """An amount allocated by the waterfall. `rest` is what nothing owed could take."""

    fees: tuple[tuple[int, Decimal], ...]
    interest: Decimal
    principal: Decimal
    rest: Decimal
    late_fees: Decimal = ZERO

    @property
    def fees_total(self) -> Decimal:
        return sum((amount for _, amount in self.fees), ZERO)


def waterfall(
    amount: Decimal,
    *,
    order: Sequence[str] | None,
    fees: Sequence[OpenFee],
    interest: Decimal,
    principal: Decimal,
) -> Split:
    """Split `amount` over what is owed in the loan's allocation order (fees oldest first)."""
    remaining = amount
    taken_fees: list[tuple[int, Decimal]] = []
    late = to_interest = to_principal = ZERO
    for bucket in order or DEFAULT_ORDER:
        if remaining <= 0:
            break
        if bucket == "fees":
            for fee in fees:
                take = min(remaining, fee.outstanding)
                if take <= 0:
                    continue
                taken_fees.append((fee.id, take))
                if fee.late:
                    late += take
                remaining -= take
        elif bucket == "interest":
            to_interest = min(remaining, max(interest, ZERO))
            remaining -= to_interest
        elif bucket == "principal":
            to_principal = min(remaining, max(principal, ZERO))
            remaining -= to_principal
    return Split(tuple(taken_fees), to_interest, to_principal, remaining, late)


def fill_installment(
    amount: Decimal,
    *,
    interest_left: Decimal,
    principal_left: Decimal,
    fee_left: Decimal,
    cancelled: Decimal = ZERO,
) -> tuple[Decimal, Decimal, Decimal]:
    """(interest, principal, fee) of an installment that `amount` pays: interest first, then
    principal, then the installment's fee. What the installment had `cancelled` (the
    scheduled interest a prepayment of all its principal cancelled; `final_interest_due`
    and the accrual count it as interest too) is no longer billed: it comes off the interest
    left, even when a true-up bills the installment principal again."""
    to_interest = max(min(amount, interest_left - cancelled), ZERO)
    to_principal = max(min(amount - to_interest, principal_left), ZERO)
    to_fee = max(min(amount - to_interest - to_principal, fee_left), ZERO)
    return to_interest, to_principal, to_fee


# --------------------------------------------------------------------------- status


def installment_status(
    *, remaining: Decimal, total_paid: Decimal, due_date: date, on: date, grace_days: int
) -> str:
    """An installment's status on business date `on`: paid when nothing remains; overdue once
    more days than the loan's grace days have passed since the due date; due from the due
    date; partially paid or upcoming before it."""
    if remaining <= 0:
        return PAID
    if (on - due_date).days > grace_days:
        return OVERDUE
    if due_date <= on:
        return DUE
    if total_paid > 0:
        return PARTIALLY_PAID
    return UPCOMING


def non_accrual(*, was: bool, active: bool, dpd: int, non_accrual_dpd: int, cure_dpd: int) -> bool:
    """Whether a loan accrues into suspense after the close: from `non_accrual_dpd` days past
    due; back to accrual (its suspended interest recognised) once no more than `cure_dpd`
    days past due (0: current again). A closed loan keeps its flag."""
    if not active:
        return was
    if dpd >= non_accrual_dpd:
        return True
    if dpd <= cure_dpd:
        return False
    return was


# --------------------------------------------------------------------------- late fees


def late_fee_amount(
    *, kind: str, amount: Decimal, cap: Decimal | None, installment_total_due: Decimal
) -> Decimal:
    """The late fee of the loan's policy: a flat amount, or a percentage of the installment
    (`amount` is then the percentage), never above the cap."""
    if kind == "percent":
        fee = round_money(installment_total_due * amount / 100)
    else:
        fee = round_money(amount)
    if cap is not None:
        fee = min(fee, cap)
    return max(fee, ZERO)


def late_fee_due(
    *,
    on: date,
    due_date: date,
    grace_days: int,
    remaining: Decimal,
    shortfall: Decimal,
    late_fees_paid: Decimal,
) -> bool:
    """Whether an installment draws its late fee at the close of `on`: past its grace days and
    unpaid; but never when all that is missing (`shortfall`: what this installment and any
    earlier one still lack) is no more than the late fees that payments took since
    (`late_fees_paid`: by payments dated after the due date before the oldest unpaid
    installment), that is when full payments fell short only because late fees took part of
    them (no pyramiding, 16 CFR 444.4)."""
    if remaining <= 0 or (on - due_date).days <= grace_days:
        return False
    return shortfall > late_fees_paid


# --------------------------------------------------------------------------- true-up


def remaining_interest(
    *, interest_due: Decimal, interest_paid: Decimal, remaining: Decimal
) -> Decimal:
    """What an unpaid installment still bills of interest (none once it is paid)."""
    if remaining <= 0:
        return ZERO
    return max(min(interest_due - interest_paid, remaining), ZERO)


def final_interest_due(
    *, interest_paid: Decimal, cancelled: Decimal, owed: Decimal, others: Decimal
) -> Decimal:
    """The final installment's interest, trued up: what it already paid (and any part of it
    cancelled), plus the interest owed by its due date that no other installment bills."""
    return interest_paid + cancelled + max(owed - others, ZERO)


def last_billing_installment(principal_left: Sequence[Decimal]) -> int:
    """Which installment is the loan's last, for the interest true-up: the last one that
    still bills principal, else the final one. `principal_left`: each installment's principal
    due less paid, in schedule order (not empty).

    A payment that took more principal than the installments billed takes it off the last
    ones first (`principal_true_up`). When that leaves them no principal, paying an earlier
    one as billed pays the loan off: it is the one that must bill the interest the loan will
    owe by its due date (`final_interest_due`), and the ones after it bill no more interest
    (`final_interest_due` with nothing owed), or the borrower would be billed interest for
    days on which no principal is left."""
    for index in range(len(principal_left) - 1, -1, -1):
        if principal_left[index] > 0:
            return index
    return len(principal_left) - 1


def principal_true_up(
    delta: Decimal, installments: Sequence[tuple[int, Decimal, Decimal]]
) -> list[tuple[int, Decimal]]:
    """How the installments' principal changes so that what they still bill equals the
    ledger's principal balance again after a payment split it differently (more interest
    than the schedule said, a payment early or late, a cent of rounding).

    `delta` > 0: the ledger kept more principal than the installments; the final one bills
    it. `delta` < 0: the ledger took more principal; the installments bill less, the last
    ones first, none below what it has paid. `installments`: (id, principal due, principal
    paid) in schedule order. Returns (id, change of principal due)."""
    if delta == 0 or not installments:
        return []
    if delta > 0:
        return [(installments[-1][0], delta)]
    changes = []
    need = -delta
    for pk, due, paid in reversed(installments):
        take = min(need, due - paid)
        if take > 0:
            changes.append((pk, -take))
            need -= take
        if need <= 0:
            break
    return changes


# --------------------------------------------------------------------------- recovery


def recovery_split(
    amount: Decimal, *, charged_off: Decimal, recovered: Decimal
) -> tuple[Decimal, Decimal]:
    """(recovered now, the borrower's credit) of a payment on a charged-off loan: recoveries
    stop at what was charged off; the rest is the borrower's, refundable."""
    room = max(charged_off - recovered, ZERO)
    recovered_now = min(amount, room)
    return recovered_now, amount - recovered_now
