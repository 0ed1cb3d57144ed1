"""The one rounding policy for money: half-up (away from zero) to the cent.

Every amount that is posted, disclosed or stored goes through ``round_money`` (or
``round_to_multiple`` for installments rounded to a coarser unit); nothing else in the
kernel calls ``quantize`` on money, so the policy can only change here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ONE = Decimal("1")

# The largest amount any money input accepts (a payment, a fee, a principal, an income):
# eleven significant digits, so that every amount and every sum of a loan's amounts is exact
# in SQLite's floating-point storage (fifteen digits) as well as in PostgreSQL's numeric.
MONEY_MAX = Decimal("999999999.99")
# Places of money as posted, and of interest as accrued before it is posted. Set-based SQL
# rounds with these (PostgreSQL's round(numeric, n) is half away from zero, as is ROUND_HALF_UP).
MONEY_PLACES = 2
ACCRUAL_PLACES = 6

# Wide enough that quantizing any realistic amount never raises InvalidOperation.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)

MoneyLike = Decimal | int | str | Fraction


def to_decimal(value: MoneyLike, *, name: str = "amount") -> Decimal:
    """Coerce an exact input to Decimal; floats are refused because they are not exact."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise TypeError(f"{name} must be Decimal, int, str or Fraction, not {type(value).__name__}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    if isinstance(value, Fraction):
        return _CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    raise TypeError(f"{name} must be Decimal, int, str or Fraction, not {type(value).__name__}")


def _round_fraction_half_up(value: Fraction, places: int) -> Decimal:
    """Round a Fraction exactly (no intermediate decimal expansion) half away from zero."""
    scale = 10**places
    scaled = abs(value) * scale
    units = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    signed = -units if value < 0 else units
    return Decimal(signed).scaleb(-places, _CONTEXT)


_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(13)}


def round_money(x: MoneyLike, places: int = 2) -> Decimal:
    """Round half-up (away from zero) to ``places`` decimals: THE money rounding function."""
    exponent = _EXPONENTS.get(places) or Decimal(1).scaleb(-places)
    if type(x) is Decimal:  # the hot path: schedules round every installment
        return x.quantize(exponent, rounding=ROUND_HALF_UP, context=_CONTEXT)
    if isinstance(x, Fraction):
        result = _round_fraction_half_up(x, places)
        return result.quantize(exponent, context=_CONTEXT)
    return to_decimal(x).quantize(exponent, rounding=ROUND_HALF_UP, context=_CONTEXT)


def round_to_multiple(x: MoneyLike, multiple: MoneyLike) -> Decimal:
    """Round half-up to a multiple such as Decimal("1") (Fineract's "installment in multiples of").

    The result keeps at least cent precision (305 -> Decimal("305.00")) so that amounts
    print and compare like every other amount.
    """
    step = to_decimal(multiple, name="multiple")
    if step <= 0:
        raise ValueError(f"multiple must be positive, got {step}")
    exact = Fraction(to_decimal(x)) / Fraction(step)
    units = round_money(exact, 0)
    exponent = step.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return round_money(_CONTEXT.multiply(units, step), places)
