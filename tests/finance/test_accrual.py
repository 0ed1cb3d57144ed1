"""Daily simple interest, exact until a servicer rounds it once at posting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lendcore.finance.accrual import daily_interest, per_diem
from lendcore.finance.money import round_money


def test_student_loan_basis_divides_by_365_25() -> None:
    # Edfinancial: 15,000 at 6.8%, 365.25-day year: 2.7926 a day, 41.89 over 15 days
    daily = per_diem(Decimal("15000.00"), Decimal("0.068"), "ACT/365.25")
    assert abs(daily - Decimal("2.792607802874743326488706365503080")) < Decimal("1e-30")
    assert round_money(daily, 4) == Decimal("2.7926")
    accrued = daily_interest(
        Decimal("15000.00"), Decimal("0.068"), date(2024, 2, 20), date(2024, 3, 6), "ACT/365.25"
    )
    assert round_money(accrued) == Decimal("41.89")
    assert abs(accrued - Decimal("41.88911704312114989733059548254620")) < Decimal("1e-30")


def test_exact_values_are_not_rounded() -> None:
    accrued = daily_interest(
        Decimal("19737.71"), Decimal("0.09"), date(2024, 1, 1), date(2024, 2, 1), "ACT/365F"
    )
    assert abs(accrued - Decimal("150.8718106849315068493150684931507")) < Decimal("1e-30")
    assert round_money(accrued) == Decimal("150.87")
    exact = daily_interest(
        Decimal("1000"), Decimal("0.036"), date(2024, 1, 1), date(2024, 1, 11), "ACT/360"
    )
    assert exact == Decimal("1.000")


def test_actual_actual_per_diem_needs_the_day() -> None:
    leap = per_diem(Decimal("36600"), Decimal("0.1"), "ACT/ACT-ISDA", on=date(2024, 7, 1))
    assert leap == Decimal("10")
    with pytest.raises(ValueError, match="needs the date 'on'"):
        per_diem(Decimal("36600"), Decimal("0.1"), "ACT/ACT-ISDA")


def test_interest_across_a_new_year_under_act_act() -> None:
    accrued = daily_interest(
        Decimal("36500"), Decimal("0.1"), date(2023, 12, 31), date(2024, 1, 2), "ACT/ACT-ISDA"
    )
    # one day of 2023 over 365 and one day of 2024 over 366: 10 + 9.97267...
    assert abs(accrued - Decimal("19.97267759562841530054644808743169")) < Decimal("1e-30")
