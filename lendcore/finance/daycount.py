"""Day-count conventions: how many days, and what fraction of a year, lie between two dates.

Results are exact (``int`` days, ``Fraction`` years) so callers round once, at posting.
The 30/360 variants follow ISDA 2006 section 4.16 and the SIA rule as implemented and
tested in QuantLib; they differ only around month ends and the end of February.
"""

from __future__ import annotations

import calendar
from datetime import date
from fractions import Fraction

BASES: tuple[str, ...] = (
    "30/360",
    "30/360-BOND",
    "30E/360",
    "30E/360-ISDA",
    "ACT/360",
    "ACT/365F",
    "ACT/ACT-ISDA",
    "ACT/365.25",
)

_THIRTY_360 = frozenset({"30/360", "30/360-BOND", "30E/360", "30E/360-ISDA"})


def _check_basis(basis: str) -> None:
    if basis not in BASES:
        raise ValueError(f"unknown day-count basis {basis!r}; expected one of {', '.join(BASES)}")


def is_last_of_february(day: date) -> bool:
    """True on 28 February of a common year and 29 February of a leap year."""
    return day.month == 2 and day.day == calendar.monthrange(day.year, 2)[1]


def _days_360(y1: int, m1: int, d1: int, y2: int, m2: int, d2: int) -> int:
    return 360 * (y2 - y1) + 30 * (m2 - m1) + (d2 - d1)


def _thirty_360_days(start: date, end: date, basis: str, maturity: date | None) -> int:
    d1, d2 = start.day, end.day
    if basis == "30/360":
        # US (SIA): end-of-February counts as the 30th on both ends.
        if is_last_of_february(start):
            if is_last_of_february(end):
                d2 = 30
            d1 = 30
        if d2 == 31 and d1 >= 30:
            d2 = 30
        if d1 == 31:
            d1 = 30
    elif basis == "30/360-BOND":
        # ISDA 2006 4.16(f): 31st -> 30th; end 31st only when the start is the 30th/31st.
        if d1 == 31:
            d1 = 30
        if d2 == 31 and d1 == 30:
            d2 = 30
    elif basis == "30E/360":
        # ISDA 2006 4.16(g), Eurobond basis: every 31st is the 30th.
        if d1 == 31:
            d1 = 30
        if d2 == 31:
            d2 = 30
    else:
        # ISDA 2006 4.16(h): month ends are the 30th, except February at maturity.
        if d1 == 31 or is_last_of_february(start):
            d1 = 30
        if d2 == 31 or (is_last_of_february(end) and end != maturity):
            d2 = 30
    return _days_360(start.year, start.month, d1, end.year, end.month, d2)


def day_count(start: date, end: date, basis: str, *, maturity: date | None = None) -> int:
    """Days between ``start`` and ``end``: 30/360 days for that family, actual days otherwise.

    ``maturity`` is read only by "30E/360-ISDA", where a 28/29 February that is the
    maturity (termination) date is not moved to the 30th.
    """
    _check_basis(basis)
    if basis in _THIRTY_360:
        return _thirty_360_days(start, end, basis, maturity)
    return (end - start).days


def _act_act_isda_parts(start: date, end: date) -> tuple[int, int]:
    """(days in common years, days in leap years) between the dates, for ACT/ACT ISDA."""
    if end < start:
        common, leap = _act_act_isda_parts(end, start)
        return -common, -leap
    common = leap = 0
    cursor = start
    while cursor.year < end.year:
        next_new_year = date(cursor.year + 1, 1, 1)
        days = (next_new_year - cursor).days
        if calendar.isleap(cursor.year):
            leap += days
        else:
            common += days
        cursor = next_new_year
    days = (end - cursor).days
    if calendar.isleap(cursor.year):
        leap += days
    else:
        common += days
    return common, leap


def year_fraction_parts(
    start: date, end: date, basis: str, *, maturity: date | None = None
) -> tuple[int, int]:
    """The year fraction as an unreduced (numerator, denominator) pair of ints.

    Cheap to turn into a Decimal in a loop (schedules), where building a Fraction for
    every period would dominate the cost.
    """
    _check_basis(basis)
    if basis in _THIRTY_360:
        return _thirty_360_days(start, end, basis, maturity), 360
    if basis == "ACT/360":
        return (end - start).days, 360
    if basis == "ACT/365F":
        return (end - start).days, 365
    if basis == "ACT/365.25":
        return 4 * (end - start).days, 1461
    common, leap = _act_act_isda_parts(start, end)
    return common * 366 + leap * 365, 365 * 366


def _day_number_360(day: date, basis: str) -> int:
    """The day's number on a 360-day calendar of twelve 30-day months. The 31st counts as the
    30th; under 30/360 (US) and 30E/360 ISDA the end of February does too, so February is
    30 days long as every month is; under 30E/360 and the bond basis it keeps its 28 or 29."""
    day_of_month = min(day.day, 30)
    if basis in ("30/360", "30E/360-ISDA") and is_last_of_february(day):
        day_of_month = 30
    return 360 * day.year + 30 * (day.month - 1) + day_of_month


def accrual_day_fraction_parts(day: date, basis: str) -> tuple[int, int]:
    """(numerator, denominator) of the year fraction daily accrual charges for the day ending
    on ``day`` (interest from ``day`` - 1 to ``day``).

    Actual-day bases: that one day's year fraction (1/360, 1/365, 1/366 ...), which adds up
    over any run of days to the basis's year fraction of the run. The 30/360 family is not
    a sum of days (30/360 from 31 January to 31 March is 60 days, while its one-day fractions
    add up to 58): a day's share is the step of its 360-day calendar number, so that every
    month accrues 30 days (the 31st nothing, the end of February the rest of its 30) and a
    run of days accrues the difference of the numbers of its ends. That is the basis's own
    year fraction for 30E/360 between any dates, and for the others between the due dates of
    a loan (a regular month is 1/12, as the schedule charges); only the end-of-month
    exceptions of the SIA and ISDA rules, which no sum of days can follow, differ.
    """
    _check_basis(basis)
    if basis in _THIRTY_360:
        previous = date.fromordinal(day.toordinal() - 1)
        return _day_number_360(day, basis) - _day_number_360(previous, basis), 360
    return year_fraction_parts(date.fromordinal(day.toordinal() - 1), day, basis)


def year_fraction(start: date, end: date, basis: str, *, maturity: date | None = None) -> Fraction:
    """Exact fraction of a year from ``start`` to ``end`` under ``basis``."""
    numerator, denominator = year_fraction_parts(start, end, basis, maturity=maturity)
    return Fraction(numerator, denominator)


def days_in_year(basis: str, on: date | None = None) -> Fraction:
    """The year length that a per-diem divides by; ACT/ACT-ISDA needs the date ``on``."""
    _check_basis(basis)
    if basis in _THIRTY_360 or basis == "ACT/360":
        return Fraction(360)
    if basis == "ACT/365F":
        return Fraction(365)
    if basis == "ACT/365.25":
        return Fraction(1461, 4)
    if on is None:
        raise ValueError("ACT/ACT-ISDA per diem needs the date 'on' (365 or 366 days)")
    return Fraction(366 if calendar.isleap(on.year) else 365)
