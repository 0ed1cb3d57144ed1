"""Schedules: validation, due dates per frequency, and each amortization and interest method."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from lendcore.finance.schedule import LoanTerms, build_schedule, due_dates, level_payment

BASE: dict[str, Any] = {
    "principal": Decimal("1200.00"),
    "annual_rate": Decimal("0.12"),
    "n_periods": 12,
    "frequency": "monthly",
    "disbursement_date": date(2024, 1, 15),
}


def terms(**changes: Any) -> LoanTerms:
    return LoanTerms(**{**BASE, **changes})


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"principal": Decimal("0")}, "principal"),
        ({"principal": Decimal("-5")}, "principal"),
        ({"principal": 1200.0}, "principal"),
        ({"principal": Decimal("NaN")}, "principal"),
        ({"principal": Decimal("100.005")}, "principal"),
        ({"annual_rate": Decimal("-0.01")}, "annual_rate"),
        ({"n_periods": 0}, "n_periods"),
        ({"n_periods": 12.0}, "n_periods"),
        ({"frequency": "fortnightly"}, "frequency"),
        ({"amortization": "balloon"}, "amortization"),
        ({"interest_method": "add-on"}, "interest_method"),
        ({"day_count": "ACT/999"}, "day_count"),
        ({"first_due_date": date(2024, 1, 15)}, "first_due_date"),
        ({"first_due_date": date(2024, 1, 1)}, "first_due_date"),
        ({"payment_rounding": Decimal("0")}, "payment_rounding"),
        ({"grace_periods": 12}, "grace_periods"),
        ({"grace_periods": -1}, "grace_periods"),
    ],
)
def test_invalid_terms_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        terms(**changes)


def test_terms_accept_exact_strings_and_ints() -> None:
    loan = terms(principal="1200", annual_rate="0.12", payment_rounding=1)
    assert loan.principal == Decimal("1200")
    assert isinstance(loan.payment_rounding, Decimal)


# --- due dates ----------------------------------------------------------------------


def test_monthly_dates_keep_the_day_and_clamp_without_drifting() -> None:
    loan = terms(disbursement_date=date(2023, 12, 31), n_periods=4)
    assert due_dates(loan) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


def test_monthly_dates_anchor_on_the_first_due_day() -> None:
    loan = terms(first_due_date=date(2024, 2, 29), n_periods=3)
    assert due_dates(loan) == [date(2024, 2, 29), date(2024, 3, 29), date(2024, 4, 29)]


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        ("quarterly", [date(2024, 4, 15), date(2024, 7, 15), date(2024, 10, 15)]),
        ("semiannual", [date(2024, 7, 15), date(2025, 1, 15), date(2025, 7, 15)]),
        ("annual", [date(2025, 1, 15), date(2026, 1, 15), date(2027, 1, 15)]),
        ("biweekly", [date(2024, 1, 29), date(2024, 2, 12), date(2024, 2, 26)]),
        ("weekly", [date(2024, 1, 22), date(2024, 1, 29), date(2024, 2, 5)]),
        ("semimonthly", [date(2024, 1, 30), date(2024, 2, 15), date(2024, 2, 29)]),
    ],
)
def test_due_dates_per_frequency(frequency: str, expected: list[date]) -> None:
    assert due_dates(terms(frequency=frequency, n_periods=3)) == expected


@pytest.mark.parametrize(
    ("first_due", "expected"),
    [
        (date(2024, 2, 1), [date(2024, 2, 1), date(2024, 2, 16), date(2024, 3, 1)]),
        (date(2024, 2, 15), [date(2024, 2, 15), date(2024, 2, 29), date(2024, 3, 15)]),
        (date(2024, 2, 16), [date(2024, 2, 16), date(2024, 3, 1), date(2024, 3, 16)]),
        (date(2025, 2, 14), [date(2025, 2, 14), date(2025, 2, 28), date(2025, 3, 14)]),
        (date(2024, 1, 31), [date(2024, 1, 31), date(2024, 2, 15), date(2024, 2, 29)]),
    ],
)
def test_semimonthly_pairs_of_days(first_due: date, expected: list[date]) -> None:
    loan = terms(frequency="semimonthly", first_due_date=first_due, n_periods=3)
    assert due_dates(loan) == expected


# --- amortizations ------------------------------------------------------------------


def test_level_payment_matches_the_annuity_formula() -> None:
    # 1,200 at 1%/month over 12 months: 106.618... -> 106.62
    assert level_payment(terms()) == Decimal("106.62")
    schedule = build_schedule(terms())
    assert schedule.payment == Decimal("106.62")
    assert all(row.payment == Decimal("106.62") for row in schedule.installments[:-1])
    assert schedule.installments[0].interest == Decimal("12.00")


def test_level_payment_rounded_up_to_a_multiple_caps_at_the_balance() -> None:
    # 1,200 over 12 months rounded to 100: 100 a month would not repay; 106.62 -> 100,
    # so use 50: 106.62 -> 100 as well; with a multiple of 1,000 the first payment clears it.
    schedule = build_schedule(terms(payment_rounding=Decimal("1000")))
    rows = schedule.installments
    assert schedule.payment == Decimal("1000.00")
    assert rows[1].payment == rows[1].principal + rows[1].interest
    assert rows[1].balance == Decimal("0.00")
    assert all(row.payment == Decimal("0.00") for row in rows[2:])
    assert sum(row.principal for row in rows) == Decimal("1200.00")


def test_equal_principal() -> None:
    schedule = build_schedule(terms(amortization="equal_principal"))
    rows = schedule.installments
    assert {row.principal for row in rows} == {Decimal("100.00")}
    assert [row.interest for row in rows[:3]] == [
        Decimal("12.00"),
        Decimal("11.00"),
        Decimal("10.00"),
    ]
    assert schedule.payment == Decimal("112.00")
    assert schedule.total_interest == Decimal("78.00")


def test_interest_only_with_a_balloon() -> None:
    schedule = build_schedule(terms(amortization="interest_only"))
    rows = schedule.installments
    assert all(row.principal == Decimal("0.00") for row in rows[:-1])
    assert all(row.interest == Decimal("12.00") for row in rows)
    assert rows[-1].payment == Decimal("1212.00")
    assert schedule.payment == Decimal("12.00")


def test_grace_periods_pay_interest_then_amortize_over_the_rest() -> None:
    schedule = build_schedule(terms(grace_periods=2))
    rows = schedule.installments
    assert [row.payment for row in rows[:2]] == [Decimal("12.00"), Decimal("12.00")]
    assert rows[1].balance == Decimal("1200.00")
    # annuity over the 10 amortizing months: 1200 * 0.01 / (1 - 1.01**-10) = 126.69...
    assert schedule.payment == Decimal("126.70")
    assert rows[2].payment == Decimal("126.70")
    assert rows[-1].balance == Decimal("0.00")


def test_flat_interest_is_spread_evenly() -> None:
    schedule = build_schedule(terms(interest_method="flat", principal=Decimal("1000.00")))
    rows = schedule.installments
    # 1,000 x 12% x 1 year = 120.00; 10.00 a month; principal 83.33 with 83.37 last
    assert schedule.total_interest == Decimal("120.00")
    assert {row.interest for row in rows} == {Decimal("10.00")}
    assert {row.principal for row in rows[:-1]} == {Decimal("83.33")}
    assert rows[-1].principal == Decimal("83.37")
    assert schedule.payment == Decimal("93.33")


def test_flat_interest_residue_goes_last() -> None:
    schedule = build_schedule(
        terms(interest_method="flat", principal=Decimal("1000.00"), annual_rate=Decimal("0.1"))
    )
    rows = schedule.installments
    assert {row.interest for row in rows[:-1]} == {Decimal("8.33")}
    assert rows[-1].interest == Decimal("8.37")


def test_zero_rate() -> None:
    schedule = build_schedule(terms(annual_rate=Decimal("0"), principal=Decimal("1000.00")))
    assert schedule.payment == Decimal("83.33")
    assert schedule.installments[-1].payment == Decimal("83.37")
    assert schedule.total_interest == Decimal("0.00")


# --- interest over the periods ------------------------------------------------------


def test_thirty_360_counts_every_regular_month_as_a_twelfth() -> None:
    loan = terms(disbursement_date=date(2024, 1, 31), amortization="interest_only")
    assert {row.interest for row in build_schedule(loan).installments} == {Decimal("12.00")}


def test_long_first_period_accrues_for_its_length() -> None:
    loan = terms(first_due_date=date(2024, 3, 1), amortization="interest_only")
    rows = build_schedule(loan).installments
    # 30/360 from 15 Jan to 1 Mar is 46 days: 1,200 x 12% x 46/360 = 18.40
    assert rows[0].interest == Decimal("18.40")
    assert rows[1].interest == Decimal("12.00")


def test_actual_day_counts_use_real_period_lengths() -> None:
    loan = terms(day_count="ACT/365F", amortization="interest_only")
    rows = build_schedule(loan).installments
    # 15 Jan -> 15 Feb 2024 is 31 days, 15 Feb -> 15 Mar is 29 days
    assert rows[0].interest == Decimal("12.23")  # 1200 * .12 * 31/365 = 12.2301
    assert rows[1].interest == Decimal("11.44")  # 1200 * .12 * 29/365 = 11.4411
    act_act = build_schedule(terms(day_count="ACT/ACT-ISDA", amortization="interest_only"))
    assert act_act.installments[0].interest == Decimal("12.20")  # 1200 * .12 * 31/366


@pytest.mark.parametrize("frequency", ["weekly", "biweekly", "semimonthly", "quarterly"])
@pytest.mark.parametrize("method", ["declining", "flat"])
@pytest.mark.parametrize("amortization", ["level", "equal_principal", "interest_only"])
def test_every_frequency_and_method_balances(
    frequency: str, method: str, amortization: str
) -> None:
    schedule = build_schedule(
        terms(frequency=frequency, interest_method=method, amortization=amortization, n_periods=26)
    )
    rows = schedule.installments
    assert sum(row.principal for row in rows) == Decimal("1200.00")
    assert rows[-1].balance == Decimal("0.00")
    assert schedule.total_payments == Decimal("1200.00") + schedule.total_interest
