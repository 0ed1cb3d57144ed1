"""Calendar-month stepping shared by schedules and the Regulation Z unit periods."""

from __future__ import annotations

from datetime import date

_COMMON_YEAR_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """Length of the month (a table lookup: calendar.monthrange is slow in hot loops)."""
    if month == 2 and is_leap_year(year):
        return 29
    return _COMMON_YEAR_MONTH_DAYS[month - 1]


def is_month_end(day: date) -> bool:
    return day.day == days_in_month(day.year, day.month)


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """``day`` moved by whole calendar months, on ``anchor_day`` clamped to the month's end.

    Passing the anchor (the day of month a schedule was set up on) keeps a series from
    drifting: 31 Jan -> 28 Feb -> 31 Mar, not -> 28 Mar.
    """
    wanted_day = day.day if anchor_day is None else anchor_day
    month_index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    return date(year, month, min(wanted_day, days_in_month(year, month)))


def months_between(earlier: date, later: date) -> int:
    """Calendar-month distance between the months of two dates (days ignored)."""
    return (later.year - earlier.year) * 12 + (later.month - earlier.month)
