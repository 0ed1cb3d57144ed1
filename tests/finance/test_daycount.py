"""Day counts beyond the shared vectors: more cases from the same published sources.

30/360 cases are the ISDA "30/360 Day Count Conventions" (2008) examples as tested in
QuantLib's test-suite/daycounters.cpp; ACT/ACT cases are from ISDA's "The Actual/Actual
Day Count Fraction" (1999), also in QuantLib's tests.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from lendcore.finance.daycount import BASES, day_count, days_in_year, year_fraction

# ISDA 2008 example 2 (end-February dates) and example 3 (miscellaneous), bond basis.
BOND_BASIS = [
    ((2006, 8, 20), (2007, 2, 20), 180),
    ((2007, 8, 31), (2008, 2, 29), 179),
    ((2008, 2, 29), (2008, 8, 31), 182),
    ((2008, 8, 31), (2009, 2, 28), 178),
    ((2009, 2, 28), (2009, 8, 31), 183),
    ((2006, 1, 31), (2006, 2, 28), 28),
    ((2006, 1, 30), (2006, 2, 28), 28),
    ((2006, 2, 28), (2006, 3, 3), 5),
    ((2006, 2, 14), (2006, 2, 28), 14),
    ((2006, 9, 30), (2006, 10, 31), 30),
    ((2006, 10, 31), (2006, 11, 28), 28),
    ((2007, 8, 31), (2008, 2, 28), 178),
    ((2008, 2, 28), (2008, 8, 28), 180),
    ((2008, 2, 28), (2008, 8, 30), 182),
    ((2008, 2, 28), (2008, 8, 31), 183),
    ((2007, 2, 26), (2008, 2, 28), 362),
    ((2007, 2, 26), (2008, 2, 29), 363),
    ((2008, 2, 29), (2009, 2, 28), 359),
    ((2008, 2, 28), (2008, 3, 30), 32),
    ((2008, 2, 28), (2008, 3, 31), 33),
]

EUROBOND = [
    ((2007, 8, 31), (2008, 2, 29), 179),
    ((2008, 2, 29), (2008, 8, 31), 181),
    ((2008, 8, 31), (2009, 2, 28), 178),
    ((2009, 2, 28), (2009, 8, 31), 182),
    ((2006, 1, 31), (2006, 2, 28), 28),
    ((2006, 2, 28), (2006, 3, 3), 5),
    ((2006, 10, 31), (2006, 11, 28), 28),
    ((2008, 2, 28), (2008, 8, 31), 182),
]

# 30E/360 ISDA with the termination (maturity) date 29 February 2008.
ISDA_MATURITY = date(2008, 2, 29)
THIRTY_E_ISDA = [
    ((2006, 1, 30), (2006, 2, 28), 30),
    ((2006, 2, 28), (2006, 3, 3), 3),
    ((2006, 9, 30), (2006, 10, 31), 30),
    ((2006, 10, 31), (2006, 11, 28), 28),
    ((2007, 8, 31), (2008, 2, 28), 178),
    ((2008, 2, 28), (2008, 8, 28), 180),
    ((2008, 2, 28), (2008, 8, 30), 182),
    ((2008, 2, 28), (2008, 8, 31), 182),
    ((2007, 2, 28), (2008, 2, 28), 358),
    ((2007, 2, 28), (2008, 2, 29), 359),
    ((2008, 2, 29), (2009, 2, 28), 360),
    ((2008, 2, 29), (2008, 3, 30), 30),
    ((2008, 2, 29), (2008, 3, 31), 30),
]

# 30/360 US (SIA): both last-of-February ends count as the 30th.
US_SIA = [
    ((2007, 2, 28), (2008, 2, 29), 360),
    ((2008, 2, 29), (2008, 3, 31), 30),
    ((2006, 1, 31), (2006, 2, 28), 28),
    ((2006, 9, 30), (2006, 10, 31), 30),
    ((2006, 9, 29), (2006, 10, 31), 32),
    ((2007, 2, 28), (2007, 3, 31), 30),
]

ACT_ACT_ISDA = [
    ((2003, 11, 1), (2004, 5, 1), Fraction(61, 365) + Fraction(121, 366)),
    ((1999, 2, 1), (1999, 7, 1), Fraction(150, 365)),
    ((1999, 7, 1), (2000, 7, 1), Fraction(184, 365) + Fraction(182, 366)),
    ((2002, 8, 15), (2003, 7, 15), Fraction(334, 365)),
    ((2003, 7, 15), (2004, 1, 15), Fraction(170, 365) + Fraction(14, 366)),
    ((1999, 7, 30), (2000, 1, 30), Fraction(155, 365) + Fraction(29, 366)),
    ((2000, 1, 30), (2000, 6, 30), Fraction(152, 366)),
]

ACT_ACT_ISDA_PUBLISHED = [  # the ISDA paper's decimals, as QuantLib checks them
    ((1999, 2, 1), (1999, 7, 1), 0.410958904110),
    ((2002, 8, 15), (2003, 7, 15), 0.915068493151),
    ((2003, 7, 15), (2004, 1, 15), 0.504004790778),
    ((1999, 7, 30), (2000, 1, 30), 0.503892506924),
    ((2000, 1, 30), (2000, 6, 30), 0.415300546448),
]


def ymd(parts: tuple[int, int, int]) -> date:
    return date(*parts)


@pytest.mark.parametrize(("start", "end", "days"), BOND_BASIS)
def test_bond_basis(start: tuple[int, int, int], end: tuple[int, int, int], days: int) -> None:
    assert day_count(ymd(start), ymd(end), "30/360-BOND") == days
    assert year_fraction(ymd(start), ymd(end), "30/360-BOND") == Fraction(days, 360)


@pytest.mark.parametrize(("start", "end", "days"), EUROBOND)
def test_eurobond_basis(start: tuple[int, int, int], end: tuple[int, int, int], days: int) -> None:
    assert day_count(ymd(start), ymd(end), "30E/360") == days


@pytest.mark.parametrize(("start", "end", "days"), THIRTY_E_ISDA)
def test_thirty_e_isda(start: tuple[int, int, int], end: tuple[int, int, int], days: int) -> None:
    assert day_count(ymd(start), ymd(end), "30E/360-ISDA", maturity=ISDA_MATURITY) == days


def test_thirty_e_isda_without_maturity_moves_every_february_end() -> None:
    assert day_count(date(2007, 2, 28), date(2008, 2, 29), "30E/360-ISDA") == 360


@pytest.mark.parametrize(("start", "end", "days"), US_SIA)
def test_us_sia(start: tuple[int, int, int], end: tuple[int, int, int], days: int) -> None:
    assert day_count(ymd(start), ymd(end), "30/360") == days


@pytest.mark.parametrize(("start", "end", "fraction"), ACT_ACT_ISDA)
def test_act_act_isda_exact(
    start: tuple[int, int, int], end: tuple[int, int, int], fraction: Fraction
) -> None:
    assert year_fraction(ymd(start), ymd(end), "ACT/ACT-ISDA") == fraction


@pytest.mark.parametrize(("start", "end", "published"), ACT_ACT_ISDA_PUBLISHED)
def test_act_act_isda_published(
    start: tuple[int, int, int], end: tuple[int, int, int], published: float
) -> None:
    fraction = year_fraction(ymd(start), ymd(end), "ACT/ACT-ISDA")
    assert abs(fraction - Fraction(str(published))) <= Fraction(1, 10**10)


def test_act_act_isda_spans_several_years_and_reverses_sign() -> None:
    forward = year_fraction(date(1999, 12, 31), date(2002, 1, 1), "ACT/ACT-ISDA")
    assert forward == Fraction(1, 365) + 2  # 1 day of 1999, all of 2000 and 2001
    assert year_fraction(date(2002, 1, 1), date(1999, 12, 31), "ACT/ACT-ISDA") == -forward


def test_actual_bases() -> None:
    start, end = date(2024, 1, 1), date(2024, 3, 1)  # 60 actual days, leap February
    assert day_count(start, end, "ACT/365F") == 60
    assert year_fraction(start, end, "ACT/360") == Fraction(60, 360)
    assert year_fraction(start, end, "ACT/365F") == Fraction(60, 365)
    assert year_fraction(start, end, "ACT/365.25") == Fraction(4 * 60, 1461)
    assert year_fraction(start, end, "ACT/365.25") == Fraction(60) / Fraction("365.25")


def test_days_in_year() -> None:
    assert days_in_year("ACT/365.25") == Fraction("365.25")
    assert days_in_year("30/360") == 360
    assert days_in_year("ACT/ACT-ISDA", date(2024, 6, 1)) == 366
    assert days_in_year("ACT/ACT-ISDA", date(2023, 6, 1)) == 365
    with pytest.raises(ValueError, match="on"):
        days_in_year("ACT/ACT-ISDA")


@pytest.mark.parametrize("function", [day_count, year_fraction])
def test_unknown_basis_is_named(function: object) -> None:
    with pytest.raises(ValueError, match="'ACT/999'"):
        function(date(2024, 1, 1), date(2024, 2, 1), "ACT/999")  # type: ignore[operator]


def test_every_basis_is_zero_on_the_same_day() -> None:
    for basis in BASES:
        assert year_fraction(date(2024, 2, 29), date(2024, 2, 29), basis) == 0
