"""The one rounding policy: half-up (away from zero), exact, Decimal out."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from lendcore.finance.money import CENT, ZERO, round_money, round_to_multiple, to_decimal


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("2.675"), Decimal("2.68")),
        (Decimal("2.665"), Decimal("2.67")),  # half-up, not banker's rounding
        (Decimal("-2.675"), Decimal("-2.68")),  # half away from zero
        (Decimal("2.6749999"), Decimal("2.67")),
        (Decimal("41.889"), Decimal("41.89")),
        (Decimal("10"), Decimal("10.00")),
        (7, Decimal("7.00")),
        ("0.005", Decimal("0.01")),
        (Fraction(1, 8), Decimal("0.13")),
        (Fraction(-1, 8), Decimal("-0.13")),
        (Fraction(1, 3), Decimal("0.33")),
        (Decimal("123456789012345678901234567.125"), Decimal("123456789012345678901234567.13")),
    ],
)
def test_round_money_is_half_up_to_the_cent(amount: object, expected: Decimal) -> None:
    result = round_money(amount)  # type: ignore[arg-type]
    assert result == expected
    assert str(result) == str(expected)


def test_round_money_takes_other_places() -> None:
    assert round_money(Decimal("2.79260780"), 4) == Decimal("2.7926")
    assert round_money(Decimal("2.5"), 0) == Decimal("3")
    assert str(round_money(Decimal("1.2345675"), 6)) == "1.234568"


def test_round_money_refuses_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        round_money(2.675)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "multiple", "expected"),
    [
        (Decimal("304.91"), Decimal("1"), "305.00"),
        (Decimal("304.49"), Decimal("1"), "304.00"),
        (Decimal("304.50"), Decimal("1"), "305.00"),
        (Decimal("12.345"), Decimal("0.05"), "12.35"),
        (Decimal("12.32"), Decimal("0.05"), "12.30"),
        (Decimal("1234"), Decimal("10"), "1230.00"),
        (Decimal("0.1234"), Decimal("0.001"), "0.123"),
        (Decimal("17.125"), Decimal("0.01"), "17.13"),
    ],
)
def test_round_to_multiple(amount: Decimal, multiple: Decimal, expected: str) -> None:
    assert str(round_to_multiple(amount, multiple)) == expected


def test_round_to_multiple_refuses_a_non_positive_multiple() -> None:
    with pytest.raises(ValueError, match="multiple"):
        round_to_multiple(Decimal("1"), Decimal("0"))


def test_constants_and_conversion() -> None:
    assert Decimal("0.01") == CENT
    assert str(ZERO) == "0.00"
    assert to_decimal("1.10") == Decimal("1.10")
    assert to_decimal(Fraction(1, 4)) == Decimal("0.25")
    with pytest.raises(TypeError):
        to_decimal(True)  # type: ignore[arg-type]
