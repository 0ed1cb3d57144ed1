"""Regulation Z (12 CFR 1026) Appendix J actuarial APR for closed-end credit.

The unit-period machinery follows Appendix J (b)(4)-(b)(5); the rate solves the general
equation (b)(8), where a fraction of a unit period earns simple interest ``(1 + f*i)``
rather than ``(1 + i)**f``. Results are percentages, unrounded: disclosure rounding
and the 1026.22(a) tolerances are the caller's decision (``within_tolerance``).

End-of-month convention (curo's, which its Appendix J tests pin down): when the
later date is the last day of its month, months are counted back along month ends
(29 Feb -> 31 Jan -> 31 Dec). A payment series anchored on another day (the 30th, with
a clamped 28 Feb) can pass ``anchor_day`` so that its months count back on that day;
``regz_apr`` does so for payments on a clamped month end (``_month_end_anchors``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from .dates import add_months, days_in_month, is_month_end, months_between

UNITS_PER_YEAR: dict[str, int] = {
    "day": 365,
    "week": 52,
    "2week": 26,
    "4week": 13,
    "semimonth": 24,
    "month": 12,
    "2month": 6,
    "quarter": 4,
    "semiyear": 2,
    "year": 1,
}

_WEEK_UNIT_DAYS = {"day": 1, "week": 7, "2week": 14, "4week": 28}
_MONTH_UNIT_MONTHS = {"month": 1, "2month": 2, "quarter": 3, "semiyear": 6, "year": 12}
_UNIT_OF_DAYS = {days: unit for unit, days in _WEEK_UNIT_DAYS.items()}
_UNIT_OF_MONTHS = {months: unit for unit, months in _MONTH_UNIT_MONTHS.items()}
# Nominal lengths in days: order units for the "smaller of two" tie-break of (b)(4) and
# round an average period to the nearest standard interval.
_NOMINAL_DAYS: dict[str, Fraction] = {
    "day": Fraction(1),
    "week": Fraction(7),
    "2week": Fraction(14),
    "semimonth": Fraction(365, 24),
    "4week": Fraction(28),
    "month": Fraction(365, 12),
    "2month": Fraction(365, 6),
    "quarter": Fraction(365, 4),
    "semiyear": Fraction(365, 2),
    "year": Fraction(365),
}

TOLERANCE_REGULAR = Decimal("0.125")  # 1026.22(a)(2): 1/8 of a percentage point
TOLERANCE_IRREGULAR = Decimal("0.25")  # 1026.22(a)(3): 1/4 of a percentage point

_SOLVE = Context(prec=40, rounding=ROUND_HALF_EVEN)
_RESULT = Context(prec=20, rounding=ROUND_HALF_EVEN)

Flow = tuple[object, int, object]  # (amount, whole unit periods t, fraction f)


_FRACTIONS: dict[tuple[int, int], Fraction] = {}


def _fraction(numerator: int, denominator: int) -> Fraction:
    """A cached Fraction: building one (gcd in Python) costs more than the date math."""
    key = (numerator, denominator)
    cached = _FRACTIONS.get(key)
    if cached is None:
        cached = Fraction(numerator, denominator)
        if len(_FRACTIONS) < 4096:
            _FRACTIONS[key] = cached
    return cached


def _check_unit(unit: str) -> None:
    if unit not in UNITS_PER_YEAR:
        raise ValueError(
            f"unknown unit period {unit!r}; expected one of {', '.join(UNITS_PER_YEAR)}"
        )


def full_months_back(
    earlier: date, later: date, *, anchor_day: int | None = None
) -> tuple[int, int]:
    """(full months counted back from ``later``, remaining days back to ``earlier``).

    Written out flat (no add_months calls): regz_apr runs it once per payment.
    """
    if later < earlier:
        raise ValueError(f"later date {later} is before earlier date {earlier}")
    later_month_days = days_in_month(later.year, later.month)
    if anchor_day is None:
        anchor = 31 if later.day == later_month_days else later.day
    elif later.day == min(anchor_day, later_month_days):
        anchor = anchor_day
    else:
        raise ValueError(f"{later} is not on anchor day {anchor_day} (nor its clamped month end)")
    year, month = earlier.year, earlier.month
    months = (later.year - year) * 12 + later.month - month
    boundary = date(year, month, min(anchor, days_in_month(year, month)))
    if boundary < earlier:
        months -= 1
        if month == 12:
            year, month = year + 1, 1
        else:
            month += 1
        boundary = date(year, month, min(anchor, days_in_month(year, month)))
    return months, (boundary - earlier).days


def unit_periods(
    start: date, end: date, unit: str, *, anchor_day: int | None = None
) -> tuple[int, Fraction]:
    """Whole unit periods ``t`` and fraction ``f`` from ``start`` to ``end`` (Appendix J (b)(5)).

    day/week multiples: actual days divided by the unit's days (iv). month: months counted
    back from the later date, the odd days divided by 30 whatever the month (ii).
    semimonth and 2-11 month units: 30 x full months + odd days, divided by 15 or the
    unit's multiple of 30 (iii). year: full 12-month years back, then the remaining whole
    months / 12, or the remaining days / 365 (v).
    """
    _check_unit(unit)
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if unit in _WEEK_UNIT_DAYS:
        size = _WEEK_UNIT_DAYS[unit]
        whole, odd = divmod((end - start).days, size)
        return whole, _fraction(odd, size)
    months, odd_days = full_months_back(start, end, anchor_day=anchor_day)
    if unit == "month":
        return months, _fraction(odd_days, 30)
    if unit == "year":
        years = months // 12
        if odd_days == 0:
            return years, _fraction(months - 12 * years, 12)
        if anchor_day is None:
            anchor_day = 31 if is_month_end(end) else end.day
        year_start = add_months(end, -12 * years, anchor_day=anchor_day)
        return years, _fraction((year_start - start).days, 365)
    size = 15 if unit == "semimonth" else 30 * _MONTH_UNIT_MONTHS[unit]
    whole, odd = divmod(30 * months + odd_days, size)
    return whole, _fraction(odd, size)


def _as_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool")
    if isinstance(value, int | str | float):
        return Decimal(str(value))
    if isinstance(value, Fraction):
        return _SOLVE.divide(Decimal(value.numerator), Decimal(value.denominator))
    raise TypeError(f"{name} must be Decimal, int, str or Fraction, not {type(value).__name__}")


def _as_fraction(value: object, name: str) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool")
    if isinstance(value, int | Decimal):
        return Fraction(value)
    if isinstance(value, str | float):
        return Fraction(str(value))
    raise TypeError(f"{name} must be a number, not {type(value).__name__}")


def _validated_flows(flows: Iterable[Flow], sign: int) -> list[tuple[int, Fraction, Decimal]]:
    """Check and convert caller-supplied (amount, t, f) flows, signed (+1 pay, -1 advance)."""
    converted = []
    for amount, t, f in flows:
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise ValueError(f"whole unit periods t must be a non-negative int, got {t!r}")
        fraction = _as_fraction(f, "f")
        if fraction < 0:
            raise ValueError(f"fraction f must not be negative, got {f!r}")
        value = _as_decimal(amount, "amount")
        converted.append((t, fraction, value if sign > 0 else -value))
    return converted


def _net_flows(
    signed_flows: Iterable[tuple[int, Fraction, Decimal]],
) -> list[tuple[int, Fraction, Decimal]]:
    """Net amount per (t, f), sorted by t then f, zero nets dropped."""
    net: dict[tuple[int, int, int], Decimal] = {}
    fraction_of: dict[tuple[int, int], Fraction] = {}
    for t, fraction, amount in signed_flows:
        # Fractions are kept reduced, so (numerator, denominator) is a cheap exact key.
        key = (t, fraction.numerator, fraction.denominator)
        fraction_of[key[1:]] = fraction
        previous = net.get(key)
        net[key] = amount if previous is None else previous + amount
    return [
        (t, fraction_of[numerator, denominator], amount)
        for (t, numerator, denominator), amount in sorted(net.items())
        if amount != 0
    ]


# The solver works on flows grouped by their fraction f: flows sharing f share the factor
# 1/(1 + f*i), and within a group sum(a * v**t) is a polynomial in v = 1/(1+i) that
# Horner's rule evaluates without a power per flow.
FloatGroup = tuple[float, list[tuple[int, float, float]]]  # (f, [(t, a, a*t)] by t desc)
DecimalGroup = tuple[Decimal, list[tuple[int, Decimal, Decimal]]]


def _group_by_fraction(
    flows: Sequence[tuple[int, Fraction, Decimal]],
) -> tuple[list[FloatGroup], list[DecimalGroup]]:
    by_fraction: dict[tuple[int, int], tuple[Fraction, list[tuple[int, Decimal]]]] = {}
    for t, f, amount in flows:
        key = (f.numerator, f.denominator)
        entry = by_fraction.get(key)
        if entry is None:
            entry = by_fraction[key] = (f, [])
        entry[1].append((t, amount))
    float_groups: list[FloatGroup] = []
    decimal_groups: list[DecimalGroup] = []
    for f, terms in by_fraction.values():
        terms.sort(key=lambda term: -term[0])
        float_groups.append((float(f), [(t, float(a), float(a) * t) for t, a in terms]))
        f_dec = _SOLVE.divide(Decimal(f.numerator), Decimal(f.denominator))
        decimal_groups.append((f_dec, [(t, a, _SOLVE.multiply(a, t)) for t, a in terms]))
    return float_groups, decimal_groups


def _float_value(groups: Sequence[FloatGroup], rate: float) -> tuple[float, float]:
    """Net present value of the flows at unit-period ``rate`` and its derivative."""
    v = 1.0 / (1.0 + rate)
    total = slope = 0.0
    for f, terms in groups:
        present = weighted = 0.0  # sum a*v**t and sum a*t*v**t, built by Horner's rule
        last_t = terms[0][0]
        for t, amount, amount_t in terms:
            if t != last_t:
                scale = v if last_t - t == 1 else v ** (last_t - t)
                present *= scale
                weighted *= scale
                last_t = t
            present += amount
            weighted += amount_t
        if last_t:
            scale = v**last_t
            present *= scale
            weighted *= scale
        simple = 1.0 + f * rate
        total += present / simple
        slope -= (v * weighted + f * present / simple) / simple
    return total, slope


def _bracket(groups: Sequence[FloatGroup]) -> tuple[float, float]:
    """Two unit rates whose net values have opposite signs, searching out from zero."""
    at_zero, _ = _float_value(groups, 0.0)
    if at_zero == 0.0:
        return 0.0, 0.0
    for candidates in (
        (1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6),
        (-0.5, -0.9, -0.99, -0.999, -0.9999, -0.99999),
    ):
        previous = 0.0
        for candidate in candidates:
            try:
                value, _ = _float_value(groups, candidate)
            except (OverflowError, ZeroDivisionError):
                break
            if (value > 0) != (at_zero > 0):
                return (previous, candidate) if candidate > 0 else (candidate, previous)
            previous = candidate
    raise ValueError("no unit-period rate balances these advances and payments")


def _solve_float(groups: Sequence[FloatGroup]) -> float:
    """The unit-period rate in floats, for ``_polish`` to finish in Decimal.

    Plain Newton from zero first: for the usual transaction (advances before payments)
    the value is convex and decreasing in the rate, so it converges from below without
    overshooting. If it strays or stalls, a bracketed Newton/bisection takes over.
    """
    rate = 0.0
    for _ in range(60):
        try:
            value, slope = _float_value(groups, rate)
        except (OverflowError, ZeroDivisionError):
            break
        if value == 0.0:
            return rate
        if slope == 0.0:
            break
        following = rate - value / slope
        if not following > -1.0:
            break
        if abs(following - rate) <= 1e-15 * max(1.0, abs(following)):
            return following
        rate = following
    return _solve_bracketed(groups)


def _solve_bracketed(groups: Sequence[FloatGroup]) -> float:
    """Newton's method kept inside a sign-change bracket (bisection when it strays)."""
    low, high = _bracket(groups)
    if low == high:
        return low
    value_low, _ = _float_value(groups, low)
    rate = (low + high) / 2
    for _ in range(200):
        value, slope = _float_value(groups, rate)
        if value == 0.0:
            return rate
        if (value > 0) == (value_low > 0):
            low, value_low = rate, value
        else:
            high = rate
        candidate = rate - value / slope if slope != 0.0 else rate
        if slope == 0.0 or not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - rate) <= 1e-15 * max(1.0, abs(rate)):
            return candidate
        rate = candidate
    return rate


def _polish(groups: Sequence[DecimalGroup], rate: Decimal) -> Decimal:
    """Newton steps in 40-digit Decimal from the float root until the step is negligible.

    The float root is good to ~1e-14; Newton doubles the correct digits, so one step
    usually suffices.
    """
    ctx = _SOLVE
    one = Decimal(1)
    threshold = Decimal("1e-12")
    for _ in range(4):
        v = ctx.divide(one, ctx.add(one, rate))
        total = slope = Decimal(0)
        for f, terms in groups:
            present = weighted = Decimal(0)
            last_t = terms[0][0]
            for t, amount, amount_t in terms:
                if t != last_t:
                    scale = v if last_t - t == 1 else ctx.power(v, last_t - t)
                    present = ctx.multiply(present, scale)
                    weighted = ctx.multiply(weighted, scale)
                    last_t = t
                present = ctx.add(present, amount)
                weighted = ctx.add(weighted, amount_t)
            if last_t:
                scale = ctx.power(v, last_t)
                present = ctx.multiply(present, scale)
                weighted = ctx.multiply(weighted, scale)
            inverse_simple = ctx.divide(one, ctx.add(one, ctx.multiply(f, rate)))
            total = ctx.add(total, ctx.multiply(present, inverse_simple))
            inner = ctx.add(
                ctx.multiply(v, weighted), ctx.multiply(ctx.multiply(f, present), inverse_simple)
            )
            slope = ctx.subtract(slope, ctx.multiply(inner, inverse_simple))
        if slope == 0:
            break
        step = ctx.divide(total, slope)
        rate = ctx.subtract(rate, step)
        if abs(step) <= threshold * max(abs(rate), threshold):
            break
    return rate


def actuarial_apr(
    advances: Sequence[Flow], payments: Sequence[Flow], periods_per_year: object
) -> Decimal:
    """APR in percent solving the Appendix J (b)(8) general equation.

    ``advances`` and ``payments`` are ``(amount, t, f)``: ``t`` whole unit periods and
    ``f`` the fraction of one from the beginning of the term. The unit rate ``i`` makes
    sum A/((1+f*i)(1+i)^t) over advances equal the same sum over payments; the APR is
    ``i * periods_per_year * 100``.
    """
    if not advances or not payments:
        raise ValueError("actuarial_apr needs at least one advance and one payment")
    per_year = _as_fraction(periods_per_year, "periods_per_year")
    if per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year!r}")
    signed = _validated_flows(advances, -1) + _validated_flows(payments, 1)
    return _solve_apr(_net_flows(signed), per_year)


def _solve_apr(flows: list[tuple[int, Fraction, Decimal]], per_year: Fraction) -> Decimal:
    if sum((amount for _, _, amount in flows), Decimal(0)) == 0:
        return Decimal(0)  # payments repay exactly what was advanced: i = 0 is the root
    float_groups, decimal_groups = _group_by_fraction(flows)
    rate = _polish(decimal_groups, Decimal(repr(_solve_float(float_groups))))
    per_year_dec = _SOLVE.divide(Decimal(per_year.numerator), Decimal(per_year.denominator))
    return _RESULT.plus(_SOLVE.multiply(_SOLVE.multiply(rate, per_year_dec), Decimal(100)))


def _interval_units(earlier: date, later: date) -> list[str]:
    """Standard intervals (b)(4)(iii) that the period from ``earlier`` to ``later`` equals."""
    days = (later - earlier).days
    units = []
    if days in _UNIT_OF_DAYS:
        units.append(_UNIT_OF_DAYS[days])
    if 13 <= days <= 17:
        units.append("semimonth")
    if days >= 28:
        months = (later.year - earlier.year) * 12 + later.month - earlier.month
        unit = _UNIT_OF_MONTHS.get(months)
        if unit is not None and (
            earlier.day == later.day
            or (earlier.day > later.day and is_month_end(later))
            or (later.day > earlier.day and is_month_end(earlier))
        ):
            units.append(unit)
    return units


def infer_unit_period(
    term_start: date, advance_dates: Sequence[date], payment_dates: Sequence[date]
) -> str:
    """The unit period of Appendix J (b)(4): the most frequent common period.

    Periods are the intervals between advances, between payments, and from the start of
    the term to the first advance after it and to the first payment. Equal frequency
    picks the smaller period; with no common period the average period is rounded to the
    nearest standard interval (the smaller one at a midpoint).
    """
    periods: list[tuple[date, date]] = []
    for dates in (sorted(advance_dates), sorted(payment_dates)):
        later_dates = [d for d in dates if d > term_start]
        if later_dates:
            periods.append((term_start, later_dates[0]))
        periods.extend(itertools.pairwise(later_dates))
    counts: dict[str, int] = {}
    for earlier, later in periods:
        for unit in _interval_units(earlier, later):
            counts[unit] = counts.get(unit, 0) + 1
    common = [(count, unit) for unit, count in counts.items() if count >= 2]
    if common:
        best = max(count for count, _ in common)
        return min((u for c, u in common if c == best), key=lambda u: _NOMINAL_DAYS[u])
    if not periods:
        raise ValueError("cannot infer a unit period without payments after the term starts")
    average = Fraction(sum((later - earlier).days for earlier, later in periods), len(periods))
    return min(_NOMINAL_DAYS, key=lambda u: (abs(_NOMINAL_DAYS[u] - average), _NOMINAL_DAYS[u]))


def _month_end_anchors(dates: Sequence[date]) -> dict[date, int]:
    """For payments on a clamped month end, the day of month their series is set on.

    A series on the 30th pays on 28 February; counted back from there its months run on
    the 30th, not along month ends. The anchor of a month-end date is the smallest day
    at least as late that the series uses in months where it is not clamped; dates
    without one keep the month-end convention.
    """
    plain_days = sorted({d.day for d in dates if not is_month_end(d)})
    anchors = {}
    for day in dates:
        if is_month_end(day):
            later_days = [x for x in plain_days if x >= day.day]
            if later_days:
                anchors[day] = later_days[0]
    return anchors


def single_payment_periods_per_year(start: date, end: date) -> Fraction | None:
    """(b)(5)(vi)-(vii): a term under a year is one unit period; None when it is longer.

    The term is a whole number of months when stepping that many months forward from
    the start lands on the end (29 Jan -> 29 Feb, 31 Jan -> 29 Feb) or counting back
    from the end lands on the start.
    """
    days = (end - start).days
    if days <= 0:
        return None
    months = months_between(start, end)
    whole = add_months(start, months) == end or full_months_back(start, end) == (months, 0)
    if 0 < months < 12 and whole:
        return Fraction(12, months)
    if days < 365 and not (months >= 12 and whole):
        return Fraction(365, days)
    return None


def regz_apr(
    amount_financed: object,
    consummation_date: date,
    payments: Sequence[tuple[date, object]],
    *,
    unit: str | None = None,
    advances: Sequence[tuple[date, object]] | None = None,
) -> Decimal:
    """APR in percent (unrounded) for a closed-end transaction under Appendix J.

    ``payments`` are ``(due date, amount)``. Without ``advances`` the amount financed is
    one advance on ``consummation_date`` (the start of the term: pass the later date
    when the finance charge starts to be earned later, (b)(3)). With ``advances`` — a
    multiple-advance transaction — they are the advance stream, each measured from
    ``consummation_date``, and ``amount_financed`` must equal their sum (a check, so a
    wrong total cannot pass silently). ``unit`` is inferred when None (``infer_unit_period``);
    a single advance repaid by a single payment within a year is one unit period with
    12/months or 365/days unit periods per year ((b)(5)(vi)-(vii)).
    """
    if not payments:
        raise ValueError("regz_apr needs at least one payment")
    financed = _as_decimal(amount_financed, "amount_financed")
    if advances is None:
        advance_list = [(consummation_date, financed)]
    else:
        advance_list = [(d, _as_decimal(a, "advance amount")) for d, a in advances]
        if not advance_list:
            raise ValueError("advances, when given, must not be empty")
        total = sum((a for _, a in advance_list), Decimal(0))
        if total != financed:
            raise ValueError(f"amount_financed {financed} differs from the advances' sum {total}")
    payment_list = sorted(((d, _as_decimal(a, "payment amount")) for d, a in payments))
    for label, flow_list in (("advance", advance_list), ("payment", payment_list)):
        for when, _ in flow_list:
            if when < consummation_date:
                raise ValueError(f"{label} on {when} is before consummation {consummation_date}")
    if unit is None and len(advance_list) == 1 and len(payment_list) == 1:
        advance_date, advance_amount = advance_list[0]
        pay_date, pay_amount = payment_list[0]
        if advance_date == consummation_date:
            per_year = single_payment_periods_per_year(consummation_date, pay_date)
            if per_year is not None:
                return actuarial_apr([(advance_amount, 0, 0)], [(pay_amount, 1, 0)], per_year)
            unit = "year"
    if unit is None:
        unit = infer_unit_period(
            consummation_date, [d for d, _ in advance_list], [d for d, _ in payment_list]
        )
    _check_unit(unit)
    anchors = _month_end_anchors([d for d, _ in payment_list])
    signed: list[tuple[int, Fraction, Decimal]] = []
    for when, amount in advance_list:
        t, f = unit_periods(consummation_date, when, unit)
        signed.append((t, f, -amount))
    for when, amount in payment_list:
        t, f = unit_periods(consummation_date, when, unit, anchor_day=anchors.get(when))
        signed.append((t, f, amount))
    return _solve_apr(_net_flows(signed), Fraction(UNITS_PER_YEAR[unit]))


def within_tolerance(disclosed: object, actual: object, *, irregular: bool) -> bool:
    """Whether a disclosed APR is accurate under 1026.22(a)(2)/(3) (both in percent)."""
    limit = TOLERANCE_IRREGULAR if irregular else TOLERANCE_REGULAR
    difference = abs(_as_decimal(disclosed, "disclosed") - _as_decimal(actual, "actual"))
    return difference <= limit


__all__ = [
    "UNITS_PER_YEAR",
    "actuarial_apr",
    "full_months_back",
    "infer_unit_period",
    "regz_apr",
    "unit_periods",
    "within_tolerance",
]
