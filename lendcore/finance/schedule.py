"""Repayment schedules: due dates, the level installment, and the interest/principal split.

Interest accrues on the outstanding balance over each period's year fraction under the
loan's day count and is rounded to the cent once per installment. The last installment
absorbs every rounding residue, so principal sums exactly to the loan amount and the
balance ends at 0.00.

Due dates. Monthly-type frequencies step whole calendar months from the first due date,
keeping its day of month (clamped to shorter months, never drifting: 31 Jan, 29 Feb,
31 Mar). Semimonthly pays twice a month on a fixed pair of days: a first due day d <= 14
pairs with d + 15 (1st/16th, 14th/29th clamped); the 15th or a month end pairs as the
15th and the last day; another day d > 15 pairs with d - 15 (16th -> 1st/16th).
Biweekly and weekly add 14 and 7 days. Without a first due date, the first installment
is due one period after disbursement (semimonthly: 15 days).

Year fractions. Under a 30/360-family basis a regular period of a calendar frequency is
exactly 1/payments-per-year (a month is 1/12, whatever February does); the first period
counts as regular when it is exactly one period long, otherwise it accrues for its
actual length under the basis. Other bases always use the basis on the real dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from typing import NamedTuple

from .dates import add_months, days_in_month, is_month_end
from .daycount import BASES, year_fraction_parts
from .money import CENT, ZERO, round_money, round_to_multiple, to_decimal

PAYMENTS_PER_YEAR: dict[str, int] = {
    "monthly": 12,
    "semimonthly": 24,
    "biweekly": 26,
    "weekly": 52,
    "quarterly": 4,
    "semiannual": 2,
    "annual": 1,
}
_MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}
_DAYS_PER_PERIOD = {"biweekly": 14, "weekly": 7}
_CALENDAR_FREQUENCIES = frozenset({*_MONTHS_PER_PERIOD, "semimonthly"})
_THIRTY_360 = frozenset({"30/360", "30/360-BOND", "30E/360", "30E/360-ISDA"})

AMORTIZATIONS = ("level", "equal_principal", "interest_only")
INTEREST_METHODS = ("declining", "flat")

_CALC = Context(prec=50, rounding=ROUND_HALF_EVEN)


def _choice(name: str, value: object, allowed: tuple[str, ...] | list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


@dataclass(frozen=True)
class LoanTerms:
    """What a schedule needs to know about a loan; validated on construction."""

    principal: Decimal
    annual_rate: Decimal
    n_periods: int
    frequency: str
    disbursement_date: date
    first_due_date: date | None = None
    amortization: str = "level"
    interest_method: str = "declining"
    day_count: str = "30/360"
    payment_rounding: Decimal = CENT
    grace_periods: int = 0

    def __post_init__(self) -> None:
        for name in ("principal", "annual_rate", "payment_rounding"):
            try:
                object.__setattr__(self, name, to_decimal(getattr(self, name), name=name))
            except (TypeError, ArithmeticError) as error:
                raise ValueError(f"{name}: {error}") from None
        if not self.principal.is_finite() or self.principal <= 0:
            raise ValueError(f"principal must be positive; got {self.principal}")
        if self.principal != round_money(self.principal):
            raise ValueError(f"principal must be in whole cents; got {self.principal}")
        if not self.annual_rate.is_finite() or self.annual_rate < 0:
            raise ValueError(f"annual_rate must be zero or positive; got {self.annual_rate}")
        if not self.payment_rounding.is_finite() or self.payment_rounding <= 0:
            raise ValueError(f"payment_rounding must be positive; got {self.payment_rounding}")
        for name in ("n_periods", "grace_periods"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an int; got {value!r}")
        if self.n_periods < 1:
            raise ValueError(f"n_periods must be at least 1; got {self.n_periods}")
        if not 0 <= self.grace_periods < self.n_periods:
            raise ValueError(
                f"grace_periods must be between 0 and n_periods - 1; got {self.grace_periods}"
            )
        _choice("frequency", self.frequency, list(PAYMENTS_PER_YEAR))
        _choice("amortization", self.amortization, AMORTIZATIONS)
        _choice("interest_method", self.interest_method, INTEREST_METHODS)
        _choice("day_count", self.day_count, BASES)
        if not isinstance(self.disbursement_date, date):
            raise ValueError(f"disbursement_date must be a date; got {self.disbursement_date!r}")
        if self.first_due_date is not None:
            if not isinstance(self.first_due_date, date):
                raise ValueError(f"first_due_date must be a date; got {self.first_due_date!r}")
            if self.first_due_date <= self.disbursement_date:
                raise ValueError(
                    f"first_due_date {self.first_due_date} must be after "
                    f"disbursement_date {self.disbursement_date}"
                )

    @property
    def payments_per_year(self) -> int:
        return PAYMENTS_PER_YEAR[self.frequency]

    @property
    def periodic_rate(self) -> Decimal:
        """The annuity's rate per period: the annual rate over payments per year."""
        return _CALC.divide(self.annual_rate, self.payments_per_year)


class Installment(NamedTuple):
    """One row of a schedule (a NamedTuple: immutable, and cheap to build 360 of)."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    payment: Decimal
    balance: Decimal


@dataclass(frozen=True)
class Schedule:
    """A full schedule. ``payment`` is the regular installment: the level payment, or for
    other amortizations the first installment after any grace period."""

    payment: Decimal
    installments: tuple[Installment, ...]
    total_interest: Decimal = field(default=ZERO)
    total_payments: Decimal = field(default=ZERO)

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.installments), ZERO)

    @property
    def due_dates(self) -> tuple[date, ...]:
        return tuple(i.due_date for i in self.installments)


def _semimonthly_days(first_due: date) -> tuple[int, int, bool]:
    """(early day, late day, first due is the late one); 31 means the month's last day."""
    day = first_due.day
    if day < 15:
        return day, day + 15, False
    if day == 15:
        return 15, 31, False
    if is_month_end(first_due):
        return 15, 31, True
    return day - 15, day, True


def semimonthly_dates(first_due: date, count: int) -> list[date]:
    """``count`` semimonthly due dates from ``first_due`` on its pair of days of the month."""
    early, late, starts_late = _semimonthly_days(first_due)
    month_index = first_due.year * 12 + first_due.month - 1
    dates = []
    for k in range(count):
        slot = k + (1 if starts_late else 0)
        year, month0 = divmod(month_index + slot // 2, 12)
        wanted = late if slot % 2 else early
        dates.append(date(year, month0 + 1, min(wanted, days_in_month(year, month0 + 1))))
    return dates


def _one_period_after(start: date, frequency: str) -> date:
    if frequency in _MONTHS_PER_PERIOD:
        return add_months(start, _MONTHS_PER_PERIOD[frequency])
    if frequency == "semimonthly":
        return start + timedelta(days=15)
    return start + timedelta(days=_DAYS_PER_PERIOD[frequency])


def due_dates(terms: LoanTerms) -> list[date]:
    """The installment due dates of ``terms`` (see the module docstring for the rules)."""
    first = terms.first_due_date or _one_period_after(terms.disbursement_date, terms.frequency)
    n = terms.n_periods
    if terms.frequency in _MONTHS_PER_PERIOD:
        step = _MONTHS_PER_PERIOD[terms.frequency]
        anchor = first.day if terms.first_due_date else terms.disbursement_date.day
        first_index = first.year * 12 + first.month - 1
        dates = []
        for k in range(n):  # add_months, inlined: this runs once per installment
            year, month0 = divmod(first_index + k * step, 12)
            month = month0 + 1
            dates.append(date(year, month, min(anchor, days_in_month(year, month))))
        return dates
    if terms.frequency == "semimonthly":
        return semimonthly_dates(first, n)
    days = _DAYS_PER_PERIOD[terms.frequency]
    return [first + timedelta(days=k * days) for k in range(n)]


def _first_period_is_regular(terms: LoanTerms, first_due: date) -> bool:
    start = terms.disbursement_date
    if terms.frequency in _MONTHS_PER_PERIOD:
        months = _MONTHS_PER_PERIOD[terms.frequency]
        regular = {add_months(start, months)}
        if is_month_end(start):
            regular.add(add_months(start, months, anchor_day=31))
        return first_due in regular
    if terms.frequency == "semimonthly":
        return first_due in semimonthly_dates(start, 2)[1:]
    return (first_due - start).days == _DAYS_PER_PERIOD[terms.frequency]


def _year_fractions(terms: LoanTerms, dates: list[date]) -> list[tuple[int, int]]:
    """Each period's year fraction as (numerator, denominator)."""
    basis = terms.day_count
    maturity = dates[-1]
    per_year = terms.payments_per_year
    regular_is_exact = terms.frequency in _CALENDAR_FREQUENCIES and basis in _THIRTY_360
    fractions = []
    previous = terms.disbursement_date
    for index, due in enumerate(dates):
        regular = index > 0 or _first_period_is_regular(terms, due)
        if regular_is_exact and regular:
            fractions.append((1, per_year))
        else:
            fractions.append(year_fraction_parts(previous, due, basis, maturity=maturity))
        previous = due
    return fractions


def _spread(total: Decimal, count: int) -> Decimal:
    """An even share of ``total`` over ``count`` parts, to the cent, that never overruns.

    Half-up normally; rounded down instead when count-1 rounded-up shares would exceed
    the total and leave the last part negative.
    """
    if count == 1:
        return total
    share = round_money(_CALC.divide(total, count))
    if share * (count - 1) > total:
        cents = int(round_money(total).scaleb(2))
        share = round_money(Fraction(cents // count, 100))
    return share


def _annuity(principal: Decimal, rates: list[Decimal]) -> Decimal:
    """The level installment that repays `principal` over periods with these rates (one per
    amortizing period: the annual rate x that period's year fraction), interest compounding
    on what is left: P x prod(1 + r_k) / sum_j prod_{k > j}(1 + r_k). With equal rates this
    is the textbook P*r / (1 - (1+r)**-m)."""
    if not any(rates):
        return _CALC.divide(principal, len(rates))
    growth = Decimal(1)
    annuity = Decimal(0)
    for rate in reversed(rates):  # annuity: the sum over j of the growth after period j
        annuity = _CALC.add(annuity, growth)
        growth = _CALC.multiply(growth, _CALC.add(1, rate))
    return _CALC.divide(_CALC.multiply(principal, growth), annuity)


def _period_rates(terms: LoanTerms, fractions: list[tuple[int, int]]) -> list[Decimal]:
    rate = terms.annual_rate
    return [
        _CALC.divide(_CALC.multiply(rate, numerator), denominator)
        for numerator, denominator in fractions[terms.grace_periods :]
    ]


def _rounded_payment(raw: Decimal, terms: LoanTerms) -> Decimal:
    payment = round_to_multiple(raw, terms.payment_rounding)
    if payment <= 0:
        payment = round_to_multiple(terms.payment_rounding, terms.payment_rounding)
    return payment


def level_payment(terms: LoanTerms) -> Decimal:
    """The level installment, solved against the schedule's own periods, rounded.

    Each amortizing period charges the annual rate times its year fraction under the loan's
    day count (actual days under ACT/360, ACT/365F and ACT/ACT; a twelfth of a year for a
    regular month under 30/360), so the installment is the annuity of those period rates,
    not of rate / payments per year: under an actual-day basis the latter leaves the last
    installment far from the others (300,000 at 7 % over 360 months on ACT/360: 27,237.07
    against 1,995.91). Where a period is so long that its interest exceeds the installment
    (a long first period, a deferral), the rest of that interest is carried to the next
    installments (deferred, never compounded) and the installment is solved against that
    schedule. Rounded half-up to ``payment_rounding`` (never below one unit of it); the last
    installment takes what rounding leaves. Where the installment barely covers a period's
    interest (36 % over 360 months) a cent of rounding moves the end of the schedule by
    years: no level installment in whole cents then makes the last one level.
    """
    dates = due_dates(terms)
    return _declining(terms, dates)[0]


def _declining(terms: LoanTerms, dates: list[date]) -> tuple[Decimal, list[Installment]]:
    fractions = _year_fractions(terms, dates)
    regular = ZERO
    if terms.amortization == "level":
        raw = _annuity(terms.principal, _period_rates(terms, fractions))
        regular = _rounded_payment(raw, terms)
    payment, installments, carried = _declining_rows(terms, dates, fractions, regular)
    if carried:  # the annuity assumed carried interest compounds: solve for the level one
        regular = _rounded_payment(_solve_carried(terms, dates, fractions, raw), terms)
        payment, installments, _ = _declining_rows(terms, dates, fractions, regular)
    return payment, installments


def _solve_carried(
    terms: LoanTerms, dates: list[date], fractions: list[tuple[int, int]], raw: Decimal
) -> Decimal:
    """The unrounded installment that leaves the last one level with the others when some
    interest is carried. The gap (last - regular) falls as the installment rises: bracket
    it, then close in by regula falsi (Illinois variant: a stalled end is halved)."""

    def gap(x: Decimal) -> Decimal:
        return _declining_rows(terms, dates, fractions, x)[1][-1].payment - x

    low = high = raw
    g_low = g_high = gap(raw)
    step = Decimal("1.05")
    for _ in range(60):
        if g_low > 0:
            break
        low = _CALC.divide(low, step)
        g_low = gap(low)
    for _ in range(60):
        if g_high < 0:
            break
        high = _CALC.multiply(high, step)
        g_high = gap(high)
    if g_low <= 0 or g_high >= 0:
        return raw
    x, side = raw, 0
    for _ in range(60):
        x = _CALC.subtract(high, _CALC.divide(g_high * (high - low), g_high - g_low))
        g = gap(x)
        if abs(g) < CENT or high - low < CENT:
            break
        if g > 0:
            low, g_low = x, g
            if side == 1:
                g_high = g_high / 2
            side = 1
        else:
            high, g_high = x, g
            if side == -1:
                g_low = g_low / 2
            side = -1
    return x


def _declining_rows(
    terms: LoanTerms, dates: list[date], fractions: list[tuple[int, int]], regular: Decimal
) -> tuple[Decimal, list[Installment], bool]:
    """(regular installment, rows, whether interest was carried) of a declining-balance
    schedule. Interest is the balance x rate x the period's year fraction, to the cent. An
    installment of a level schedule never bills more than `regular`: interest beyond it is
    carried to the next installments; the last one takes the balance and any carried
    interest."""
    n, grace = terms.n_periods, terms.grace_periods
    rate = terms.annual_rate
    balance = terms.principal
    level = terms.amortization == "level"
    interest_only = terms.amortization == "interest_only"
    regular_principal = ZERO
    if not level and not interest_only:
        regular_principal = _spread(terms.principal, n - grace)
    multiply, divide = _CALC.multiply, _CALC.divide
    installments = []
    carry = ZERO
    carried = False
    for number, (due, (numerator, denominator)) in enumerate(zip(dates, fractions, strict=True), 1):
        # balance x rate x year fraction, divided last so a terminating value stays exact
        exact = divide(multiply(multiply(balance, rate), numerator), denominator)
        interest = (round_money(exact) if rate else ZERO) + carry
        carry = ZERO
        if number == n:
            principal = balance
        elif number <= grace or interest_only:
            principal = ZERO
        elif level:
            if interest > regular:  # a long first period: bill the installment, carry the rest
                billed = round_money(regular)
                carry, interest, carried = interest - billed, billed, True
            principal = min(max(regular - interest, ZERO), balance)
        else:
            principal = min(regular_principal, balance)
        balance = balance - principal
        installments.append(
            Installment(number, due, principal, interest, principal + interest, balance)
        )
    if not level:
        regular = installments[min(grace, n - 1)].payment
    return regular, installments, carried


def _flat(terms: LoanTerms, dates: list[date]) -> tuple[Decimal, list[Installment]]:
    """Flat interest: principal x rate x term in years, spread evenly like the principal."""
    n, grace = terms.n_periods, terms.grace_periods
    years = Fraction(n, terms.payments_per_year)
    total_interest = round_money(Fraction(terms.principal) * Fraction(terms.annual_rate) * years)
    interest_share = _spread(total_interest, n)
    amortizing = n - grace
    principal_share = _spread(terms.principal, amortizing)
    balance = terms.principal
    interest_left = total_interest
    installments = []
    for number, due in enumerate(dates, start=1):
        interest = interest_left if number == n else min(interest_share, interest_left)
        interest_left -= interest
        if number == n:
            principal = balance
        elif number <= grace or terms.amortization == "interest_only":
            principal = ZERO
        else:
            principal = min(principal_share, balance)
        balance -= principal
        installments.append(
            Installment(number, due, principal, interest, principal + interest, balance)
        )
    return installments[min(grace, n - 1)].payment, installments


def build_schedule(terms: LoanTerms) -> Schedule:
    """The full repayment schedule for ``terms``."""
    dates = due_dates(terms)
    if terms.interest_method == "flat":
        payment, installments = _flat(terms, dates)
    else:
        payment, installments = _declining(terms, dates)
    total_interest = sum((i.interest for i in installments), ZERO)
    total_payments = sum((i.payment for i in installments), ZERO)
    return Schedule(payment, tuple(installments), total_interest, total_payments)
