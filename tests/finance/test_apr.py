"""Regulation Z Appendix J: unit periods, unit-period inference and the actuarial APR.

Besides the shared vectors, the other worked examples of Appendix J (c) are checked, as
transcribed in github.com/simontreanor/FSharp.Finance.Personal tests/AprUsActuarialTests.fs,
and more unit-period cases from curo's tests/daycount/test_us_appendix_j.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from lendcore.finance.apr import (
    UNITS_PER_YEAR,
    actuarial_apr,
    infer_unit_period,
    regz_apr,
    unit_periods,
    within_tolerance,
)
from lendcore.finance.dates import add_months
from lendcore.finance.money import round_money


def monthly(first: date, count: int, months: int = 1) -> list[date]:
    return [add_months(first, k * months, anchor_day=first.day) for k in range(count)]


def every(first: date, count: int, days: int) -> list[date]:
    return [first + timedelta(days=k * days) for k in range(count)]


def stream(dates: list[date], amount: str) -> list[tuple[date, Decimal]]:
    return [(d, Decimal(amount)) for d in dates]


# Appendix J (c) examples not in the shared vectors: (amount financed, consummation,
# payments, published APR).
APPENDIX_J_EXAMPLES = {
    "c1ii monthly, long first period": (
        "6000",
        date(1978, 2, 10),
        stream(monthly(date(1978, 4, 1), 36), "200"),
        "11.82",
    ),
    "c1iv quarterly, long first period": (
        "10000",
        date(1978, 5, 23),
        stream(monthly(date(1978, 10, 1), 40, 3), "385"),
        "8.97",
    ),
    "c1v weekly, long first period": (
        "500",
        date(1978, 3, 20),
        stream(every(date(1978, 4, 21), 30, 7), "17.60"),
        "14.96",
    ),
    "c2ii 4-weekly, long first period, irregular first payment": (
        "400",
        date(1978, 3, 18),
        stream([date(1978, 4, 20)], "39.50") + stream(every(date(1978, 5, 18), 11, 28), "38.31"),
        "28.50",
    ),
    "c3i monthly, irregular final payment": (
        "5000",
        date(1978, 1, 10),
        stream(monthly(date(1978, 2, 10), 23), "230") + stream([date(1980, 1, 10)], "280"),
        "10.50",
    ),
    "c4i monthly, irregular first and final payments": (
        "5000",
        date(1978, 1, 10),
        stream([date(1978, 2, 10)], "250")
        + stream(monthly(date(1978, 3, 10), 22), "230")
        + stream([date(1980, 1, 10)], "280"),
        "10.90",
    ),
    "c5i single payment, term in days": (
        "1000",
        date(1978, 1, 3),
        stream([date(1978, 9, 15)], "1080"),
        "11.45",
    ),
    "c5ii single payment, 6 months": (
        "1000",
        date(1978, 1, 10),
        stream([date(1978, 7, 10)], "1044"),
        "8.80",
    ),
}


@pytest.mark.parametrize("example", APPENDIX_J_EXAMPLES, ids=list(APPENDIX_J_EXAMPLES))
def test_appendix_j_examples(example: str) -> None:
    amount_financed, consummation, payments, published = APPENDIX_J_EXAMPLES[example]
    apr = regz_apr(Decimal(amount_financed), consummation, payments)
    assert round_money(apr, 2) == Decimal(published), apr


def test_single_advance_single_payment_uses_the_term_as_unit_period() -> None:
    # (c)(5)(i): 8% over 255 days -> 8% x 365/255 = 11.4509...%
    apr = regz_apr(Decimal("1000"), date(1978, 1, 3), [(date(1978, 9, 15), Decimal("1080"))])
    assert abs(apr - Decimal(8) * 365 / 255) < Decimal("1e-15")


def test_apr_has_many_decimals_and_is_not_rounded() -> None:
    apr = regz_apr(
        Decimal("5000"), date(1978, 1, 10), stream(monthly(date(1978, 2, 10), 24), "230")
    )
    assert apr.as_tuple().exponent <= -15
    assert Decimal("9.685708") <= apr <= Decimal("9.685709")


# --- unit periods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "unit", "t", "f"),
    [
        # curo's month cases: a month-end later date counts back along month ends.
        ((2024, 1, 31), (2024, 2, 29), "month", 1, Fraction(0)),
        ((2023, 10, 31), (2024, 2, 29), "month", 4, Fraction(0)),
        ((2024, 10, 31), (2025, 2, 28), "month", 4, Fraction(0)),
        ((2026, 1, 10), (2026, 2, 15), "month", 1, Fraction(5, 30)),
        ((2026, 1, 10), (2026, 3, 15), "month", 2, Fraction(5, 30)),
        ((2028, 1, 10), (2028, 2, 29), "month", 1, Fraction(21, 30)),
        ((2025, 3, 29), (2025, 6, 30), "month", 3, Fraction(2, 30)),
        ((2026, 1, 10), (2026, 4, 15), "month", 3, Fraction(5, 30)),
        ((2026, 1, 10), (2026, 1, 10), "month", 0, Fraction(0)),
        ((2023, 2, 28), (2024, 2, 29), "year", 1, Fraction(0)),
        ((2023, 5, 31), (2024, 6, 15), "year", 1, Fraction(15, 365)),
        ((2023, 2, 28), (2024, 2, 29), "semiyear", 2, Fraction(0)),
        ((2023, 5, 31), (2024, 6, 15), "semiyear", 2, Fraction(15, 180)),
        ((2023, 2, 28), (2024, 2, 29), "quarter", 4, Fraction(0)),
        ((2025, 12, 6), (2026, 1, 3), "2week", 2, Fraction(0)),
        ((2025, 12, 6), (2026, 1, 3), "week", 4, Fraction(0)),
        ((2025, 12, 1), (2026, 1, 3), "week", 4, Fraction(5, 7)),
        # (b)(5)(iv): 33 days are 2 fortnights and 5 days -> 5/14 of a unit period.
        ((2025, 12, 1), (2026, 1, 3), "2week", 2, Fraction(5, 14)),
        # (b)(5)(iv): a day unit counts whole days.
        ((2026, 1, 10), (2026, 1, 25), "day", 15, Fraction(0)),
        # (b)(5)(v)(A): a remaining whole number of months counts in twelfths.
        ((2023, 1, 15), (2024, 4, 15), "year", 1, Fraction(3, 12)),
        # (b)(5)(iii): 30 x 4 months + 7 days (23 Feb -> 2 Mar 1978) = 127 = 8 x 15 + 7.
        ((1978, 2, 23), (1978, 7, 2), "semimonth", 8, Fraction(7, 15)),
    ],
)
def test_unit_periods(
    start: tuple[int, int, int], end: tuple[int, int, int], unit: str, t: int, f: Fraction
) -> None:
    assert unit_periods(date(*start), date(*end), unit) == (t, f)


def test_anchor_day_counts_months_back_on_the_series_day() -> None:
    # A series on the 30th pays on 28 Feb: its month runs back to 30 Jan, not 31 Jan.
    assert unit_periods(date(2024, 12, 30), date(2025, 2, 28), "month", anchor_day=30) == (
        2,
        Fraction(0),
    )
    assert unit_periods(date(2024, 12, 30), date(2025, 2, 28), "month") == (2, Fraction(1, 30))
    with pytest.raises(ValueError, match="anchor"):
        unit_periods(date(2024, 12, 30), date(2025, 2, 27), "month", anchor_day=30)


def test_unit_periods_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="fortnight"):
        unit_periods(date(2024, 1, 1), date(2024, 2, 1), "fortnight")
    with pytest.raises(ValueError, match="before"):
        unit_periods(date(2024, 2, 1), date(2024, 1, 1), "month")


@pytest.mark.parametrize(
    ("dates", "unit"),
    [
        (monthly(date(2024, 2, 10), 12), "month"),
        (monthly(date(2024, 1, 31), 12), "month"),
        (monthly(date(2024, 4, 1), 8, 3), "quarter"),
        (monthly(date(2024, 3, 1), 8, 2), "2month"),
        (monthly(date(2024, 7, 1), 6, 6), "semiyear"),
        (monthly(date(2025, 1, 1), 4, 12), "year"),
        (every(date(2024, 1, 8), 20, 7), "week"),
        (every(date(2024, 1, 8), 20, 14), "2week"),
        (every(date(2024, 1, 8), 20, 28), "4week"),
        (every(date(2024, 1, 2), 20, 1), "day"),
        ([d for m in monthly(date(2024, 2, 1), 6) for d in (m, m.replace(day=16))], "semimonth"),
    ],
)
def test_unit_period_is_the_most_frequent_interval(dates: list[date], unit: str) -> None:
    assert infer_unit_period(date(2024, 1, 1), [date(2024, 1, 1)], dates) == unit


def test_no_common_period_rounds_the_average_to_a_standard_interval() -> None:
    # Periods of 40 and 25 days, no repeat: average 32.5 days -> a month.
    dates = [date(2024, 2, 10), date(2024, 3, 6)]
    assert infer_unit_period(date(2024, 1, 1), [date(2024, 1, 1)], dates) == "month"


# --- multiple advances, tolerances, errors ------------------------------------------


def test_multiple_advances_measure_each_from_the_term_start() -> None:
    consummation = date(2024, 1, 15)
    advances = [(date(2024, 1, 15), Decimal("1000")), (date(2024, 3, 15), Decimal("1000"))]
    payments = stream(monthly(date(2024, 4, 15), 12), "180")
    # When
    apr = regz_apr(Decimal("2000"), consummation, payments, advances=advances)
    # Then: the same as the general equation written out with (t, f)
    by_hand = actuarial_apr(
        [(Decimal("1000"), 0, 0), (Decimal("1000"), 2, 0)],
        [(Decimal("180"), 3 + k, 0) for k in range(12)],
        12,
    )
    assert apr == by_hand
    single = regz_apr(Decimal("2000"), consummation, payments)
    assert apr > single  # the second advance came later, so the money cost more


def test_advances_must_add_up_to_the_amount_financed() -> None:
    with pytest.raises(ValueError, match="amount_financed"):
        regz_apr(
            Decimal("2500"),
            date(2024, 1, 15),
            stream(monthly(date(2024, 2, 15), 12), "200"),
            advances=[(date(2024, 1, 15), Decimal("2000"))],
        )


def test_payments_before_consummation_are_refused() -> None:
    with pytest.raises(ValueError, match="before consummation"):
        regz_apr(Decimal("100"), date(2024, 1, 15), [(date(2024, 1, 1), Decimal("101"))])


def test_zero_finance_charge_is_zero_apr() -> None:
    payments = stream(monthly(date(2024, 2, 15), 4), "250")
    assert regz_apr(Decimal("1000"), date(2024, 1, 15), payments) == 0


def test_payments_below_the_amount_financed_give_a_negative_apr() -> None:
    payments = stream(monthly(date(2024, 2, 15), 12), "80")
    assert regz_apr(Decimal("1000"), date(2024, 1, 15), payments) < 0


def test_actuarial_apr_treats_the_odd_fraction_as_simple_interest() -> None:
    # One payment 1 + 1/2 months out at 1%/month: (1 + 0.5i)(1 + i) = 1.01 * 1.005
    apr = actuarial_apr([(Decimal("1000"), 0, 0)], [(Decimal("1015.05"), 1, "1/2")], 12)
    assert abs(apr - Decimal("12")) < Decimal("1e-15")


@pytest.mark.parametrize(
    ("disclosed", "actual", "irregular", "ok"),
    [
        ("10.125", "10.0", False, True),
        ("10.126", "10.0", False, False),
        ("9.875", "10.0", False, True),
        ("10.25", "10.0", True, True),
        ("10.26", "10.0", True, False),
        (Decimal("9.69"), Decimal("9.685708"), False, True),
    ],
)
def test_within_tolerance(disclosed: object, actual: object, irregular: bool, ok: bool) -> None:
    assert within_tolerance(disclosed, actual, irregular=irregular) is ok


def test_units_per_year() -> None:
    assert UNITS_PER_YEAR == {
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
