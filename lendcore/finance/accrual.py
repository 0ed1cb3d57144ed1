"""Daily simple interest, exact: servicing rounds once, when it posts.

``daily_interest`` returns balance x rate x year fraction without rounding (a Decimal
carrying 34 significant digits, exact whenever the value terminates), so a servicer can
keep 6 places in its accrual ledger or round to the cent at posting, as it chooses.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from .daycount import days_in_year, year_fraction
from .money import MoneyLike, to_decimal

_EXACT = Context(prec=34, rounding=ROUND_HALF_EVEN)


def _fraction_to_decimal(value: Fraction) -> Decimal:
    return _EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))


def daily_interest(
    balance: MoneyLike, annual_rate: MoneyLike, start: date, end: date, basis: str
) -> Decimal:
    """Simple interest on ``balance`` for the days from ``start`` (counted) to ``end`` (not
    counted) under ``basis``, unrounded: balance x rate x year_fraction(start, end)."""
    exact = (
        Fraction(to_decimal(balance, name="balance"))
        * Fraction(to_decimal(annual_rate, name="annual_rate"))
        * year_fraction(start, end, basis)
    )
    return _fraction_to_decimal(exact)


def per_diem(
    balance: MoneyLike, annual_rate: MoneyLike, basis: str, on: date | None = None
) -> Decimal:
    """One day's interest: balance x rate / the basis's year length, unrounded.

    ``on`` is needed only for ACT/ACT-ISDA, whose year has 365 or 366 days.
    """
    exact = (
        Fraction(to_decimal(balance, name="balance"))
        * Fraction(to_decimal(annual_rate, name="annual_rate"))
        / days_in_year(basis, on)
    )
    return _fraction_to_decimal(exact)
