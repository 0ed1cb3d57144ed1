"""Time-value-of-money functions with numpy-financial's signatures, in Decimal.

Same argument order, sign convention (money paid out is negative) and ``when``
("end"/"begin", or 0/1) as numpy-financial, so formulas and spreadsheets carry over;
but inputs are converted through ``str`` to Decimal and the work is done in a local
40-digit context, so results do not carry binary floating-point error. Results are
returned at 28 significant digits (Decimal's default precision). Where numpy-financial
returns NaN (no solution), so do these, as ``Decimal("NaN")``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction

NAN = Decimal("NaN")
_WORK = Context(
    prec=40, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_RESULT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ARITHMETIC_ERRORS = (InvalidOperation, DivisionByZero, Overflow, ZeroDivisionError)

Number = Decimal | int | float | str | Fraction


class NoRealSolutionError(ValueError):
    """Raised (when asked) if no real rate solves the cash flows."""


class IterationsExceededError(ValueError):
    """Raised (when asked) if Newton's method did not converge within ``maxiter``."""


def _dec(value: Number, name: str = "value") -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool")
    if isinstance(value, int | float | str):
        return Decimal(str(value))
    if isinstance(value, Fraction):
        return _WORK.divide(Decimal(value.numerator), Decimal(value.denominator))
    raise TypeError(
        f"{name} must be Decimal, int, float, str or Fraction, not {type(value).__name__}"
    )


def _when(when: Number) -> Decimal:
    """numpy-financial's ``when``: "end"/0 pays at period end, "begin"/1 at the start."""
    if isinstance(when, str):
        key = when.strip().lower()
        if key in ("end", "0"):
            return Decimal(0)
        if key in ("begin", "1"):
            return Decimal(1)
        raise ValueError(f"when must be 'begin', 'end', 0 or 1, got {when!r}")
    value = _dec(when, "when")
    if value not in (0, 1):
        raise ValueError(f"when must be 'begin', 'end', 0 or 1, got {when!r}")
    return Decimal(int(value))


def _out(value: Decimal) -> Decimal:
    return _RESULT.plus(value)


def _annuity_factor(rate: Decimal, nper: Decimal, when: Decimal) -> tuple[Decimal, Decimal]:
    """((1+rate)**nper, the payment factor), the two pieces every closed form shares."""
    growth = _WORK.power(_WORK.add(1, rate), nper)
    if rate == 0:
        return growth, nper
    factor = _WORK.divide(
        _WORK.multiply(_WORK.add(1, _WORK.multiply(rate, when)), _WORK.subtract(growth, 1)), rate
    )
    return growth, factor


def pmt(rate: Number, nper: Number, pv: Number, fv: Number = 0, when: Number = "end") -> Decimal:
    """Level payment per period that amortizes ``pv`` to ``fv`` over ``nper`` periods."""
    r, n, p, f, w = _dec(rate), _dec(nper), _dec(pv), _dec(fv), _when(when)
    growth, factor = _annuity_factor(r, n, w)
    return _out(_WORK.minus(_WORK.divide(_WORK.add(f, _WORK.multiply(p, growth)), factor)))


def fv(rate: Number, nper: Number, pmt: Number, pv: Number, when: Number = "end") -> Decimal:
    """Future value after ``nper`` periods of payments ``pmt`` on a present value ``pv``."""
    r, n, a, p, w = _dec(rate), _dec(nper), _dec(pmt), _dec(pv), _when(when)
    growth, factor = _annuity_factor(r, n, w)
    return _out(_WORK.minus(_WORK.add(_WORK.multiply(p, growth), _WORK.multiply(a, factor))))


def pv(rate: Number, nper: Number, pmt: Number, fv: Number = 0, when: Number = "end") -> Decimal:
    """Present value of ``nper`` payments ``pmt`` plus a final ``fv``."""
    r, n, a, f, w = _dec(rate), _dec(nper), _dec(pmt), _dec(fv), _when(when)
    growth, factor = _annuity_factor(r, n, w)
    return _out(_WORK.minus(_WORK.divide(_WORK.add(f, _WORK.multiply(a, factor)), growth)))


def _ipmt_work(r: Decimal, per: Decimal, n: Decimal, p: Decimal, f: Decimal, w: Decimal) -> Decimal:
    if per < 1:
        return NAN
    if w == 1 and per == 1:
        return Decimal(0)
    growth, factor = _annuity_factor(r, n, w)
    payment = _WORK.minus(_WORK.divide(_WORK.add(f, _WORK.multiply(p, growth)), factor))
    # Balance after per-1 payments (numpy-financial's _rbl), times the rate.
    growth_before, factor_before = _annuity_factor(r, _WORK.subtract(per, 1), w)
    balance = _WORK.minus(
        _WORK.add(_WORK.multiply(p, growth_before), _WORK.multiply(payment, factor_before))
    )
    interest = _WORK.multiply(balance, r)
    if w == 1:
        interest = _WORK.divide(interest, _WORK.add(1, r))
    return interest


def ipmt(
    rate: Number, per: Number, nper: Number, pv: Number, fv: Number = 0, when: Number = "end"
) -> Decimal:
    """Interest part of payment number ``per`` (1-based); NaN for ``per < 1``."""
    args = _dec(rate), _dec(per), _dec(nper), _dec(pv), _dec(fv), _when(when)
    result = _ipmt_work(*args)
    return result if result.is_nan() else _out(result)


def ppmt(
    rate: Number, per: Number, nper: Number, pv: Number, fv: Number = 0, when: Number = "end"
) -> Decimal:
    """Principal part of payment number ``per``: the payment less its interest part."""
    r, pr, n, p, f, w = _dec(rate), _dec(per), _dec(nper), _dec(pv), _dec(fv), _when(when)
    interest = _ipmt_work(r, pr, n, p, f, w)
    if interest.is_nan():
        return NAN
    growth, factor = _annuity_factor(r, n, w)
    payment = _WORK.minus(_WORK.divide(_WORK.add(f, _WORK.multiply(p, growth)), factor))
    return _out(_WORK.subtract(payment, interest))


def nper(rate: Number, pmt: Number, pv: Number, fv: Number = 0, when: Number = "end") -> Decimal:
    """Number of periods for payments ``pmt`` to take ``pv`` to ``fv`` (may be fractional)."""
    r, a, p, f, w = _dec(rate), _dec(pmt), _dec(pv), _dec(fv), _when(when)
    try:
        if r == 0:
            if a == 0:
                return Decimal("Infinity")
            return _out(_WORK.minus(_WORK.divide(_WORK.add(f, p), a)))
        z = _WORK.divide(_WORK.multiply(a, _WORK.add(1, _WORK.multiply(r, w))), r)
        ratio = _WORK.divide(_WORK.subtract(z, f), _WORK.add(p, z))
        return _out(_WORK.divide(_WORK.ln(ratio), _WORK.ln(_WORK.add(1, r))))
    except _ARITHMETIC_ERRORS:
        return NAN


def _rate_step(r: Decimal, n: Decimal, a: Decimal, p: Decimal, f: Decimal, w: Decimal) -> Decimal:
    """g/g' of numpy-financial's rate(): the Newton step for the annuity equation."""
    ctx = _WORK
    t1 = ctx.power(ctx.add(r, 1), n)
    t2 = ctx.power(ctx.add(r, 1), ctx.subtract(n, 1))
    rw1 = ctx.add(ctx.multiply(r, w), 1)
    annuity = ctx.divide(ctx.multiply(ctx.multiply(a, ctx.subtract(t1, 1)), rw1), r)
    g = ctx.add(ctx.add(f, ctx.multiply(t1, p)), annuity)
    gp = ctx.add(
        ctx.subtract(
            ctx.multiply(ctx.multiply(n, t2), p),
            ctx.divide(annuity, r),
        ),
        ctx.add(
            ctx.divide(ctx.multiply(ctx.multiply(ctx.multiply(n, a), t2), rw1), r),
            ctx.divide(ctx.multiply(ctx.multiply(a, ctx.subtract(t1, 1)), w), r),
        ),
    )
    return ctx.divide(g, gp)


def rate(
    nper: Number,
    pmt: Number,
    pv: Number,
    fv: Number,
    when: Number = "end",
    guess: Number | None = None,
    tol: Number | None = None,
    maxiter: int = 100,
    *,
    raise_exceptions: bool = False,
) -> Decimal:
    """Rate per period, by Newton's method from ``guess`` (0.1) as numpy-financial does.

    The default ``tol`` is 1e-24, not numpy-financial's 1e-6: Newton converges
    quadratically, so the extra steps are cheap and the result is the root to ~28 digits
    instead of one that can be 1e-12 away. NaN when it does not converge (or raises
    ``IterationsExceededError`` / ``NoRealSolutionError`` with ``raise_exceptions``).
    """
    n, a, p, f, w = _dec(nper), _dec(pmt), _dec(pv), _dec(fv), _when(when)
    current = Decimal("0.1") if guess is None else _dec(guess, "guess")
    tolerance = Decimal("1e-24") if tol is None else _dec(tol, "tol")
    try:
        for _ in range(maxiter):
            following = _WORK.subtract(current, _rate_step(current, n, a, p, f, w))
            if abs(following - current) < tolerance:
                return _out(following)
            current = following
    except _ARITHMETIC_ERRORS as error:
        if raise_exceptions:
            raise NoRealSolutionError(f"no real rate solves these cash flows: {error!r}") from None
        return NAN
    if raise_exceptions:
        raise IterationsExceededError(f"rate did not converge in {maxiter} iterations")
    return NAN


def npv(rate: Number, values: Sequence[Number]) -> Decimal:
    """Net present value with the first value at t=0, undiscounted (numpy's, not Excel's)."""
    r = _dec(rate)
    discount = _WORK.divide(1, _WORK.add(1, r))
    total = Decimal(0)
    factor = Decimal(1)
    for value in values:
        total = _WORK.add(total, _WORK.multiply(_dec(value), factor))
        factor = _WORK.multiply(factor, discount)
    return _out(total)


def _poly_value(coefficients: Sequence[Decimal], growth: Decimal) -> Decimal:
    """Sum of v_t * growth**(N - t): the cash flows' polynomial in growth = 1 + rate."""
    total = Decimal(0)
    for coefficient in coefficients:
        total = _WORK.add(_WORK.multiply(total, growth), coefficient)
    return total


def _poly_value_and_slope(
    coefficients: Sequence[Decimal], growth: Decimal
) -> tuple[Decimal, Decimal]:
    total = slope = Decimal(0)
    for coefficient in coefficients:
        slope = _WORK.add(_WORK.multiply(slope, growth), total)
        total = _WORK.add(_WORK.multiply(total, growth), coefficient)
    return total, slope


def _refine_root(coefficients: Sequence[Decimal], low: Decimal, high: Decimal) -> Decimal:
    """Root of the polynomial in (low, high], where it changes sign: bisection, then Newton."""
    value_low = _poly_value(coefficients, low)
    for _ in range(400):
        middle = _WORK.sqrt(_WORK.multiply(low, high)) if low > 0 else _WORK.divide(high, 2)
        if high - low <= high * Decimal("1e-12"):
            break
        value_middle = _poly_value(coefficients, middle)
        if value_middle == 0:
            return middle
        if (value_middle > 0) == (value_low > 0):
            low, value_low = middle, value_middle
        else:
            high = middle
    root = _WORK.divide(_WORK.add(low, high), 2)
    for _ in range(20):
        value, slope = _poly_value_and_slope(coefficients, root)
        if slope == 0:
            break
        step = _WORK.divide(value, slope)
        candidate = _WORK.subtract(root, step)
        if not low <= candidate <= high:
            break
        root = candidate
        if abs(step) <= root * Decimal("1e-36"):
            break
    return root


def _sign_changes(values: Sequence[Decimal]) -> int:
    signs = [v > 0 for v in values if v != 0]
    return sum(1 for a, b in itertools.pairwise(signs) if a != b)


def _real_growth_roots(coefficients: Sequence[Decimal]) -> list[Decimal]:
    """Positive real roots growth = 1 + rate of the cash-flow polynomial.

    One sign change in the flows means exactly one root (Descartes): it is bracketed by
    doubling/halving from growth = 1. Otherwise sign changes are looked for on a
    geometric grid from 1e-15 to 1e15 (double roots, where the value only touches zero,
    are not reported — numpy-financial's float roots rarely see them either).
    """
    if _sign_changes(coefficients) == 1:
        low = high = Decimal(1)
        at_one = _poly_value(coefficients, high)
        if at_one == 0:
            return [Decimal(1)]
        at_zero_sign = coefficients[-1] > 0  # sign as growth -> 0+
        if (at_one > 0) == at_zero_sign:  # root above 1
            while (_poly_value(coefficients, high) > 0) == at_zero_sign:
                low, high = high, _WORK.multiply(high, 2)
        else:
            while (_poly_value(coefficients, low) > 0) != at_zero_sign:
                high, low = low, _WORK.divide(low, 2)
        return [_refine_root(coefficients, low, high)]
    grid = [_WORK.power(Decimal(10), Decimal(k) / 40) for k in range(-600, 601)]
    roots: list[Decimal] = []
    previous_point = grid[0]
    previous_value = _poly_value(coefficients, previous_point)
    for point in grid[1:]:
        value = _poly_value(coefficients, point)
        if value == 0:
            roots.append(point)
        elif previous_value != 0 and (value > 0) != (previous_value > 0):
            roots.append(_refine_root(coefficients, previous_point, point))
        previous_point, previous_value = point, value
    return roots


def _select_irr(candidates: list[Decimal]) -> Decimal:
    """numpy-financial's default choice among several real IRRs.

    With roots of both signs the non-negative ones are kept; of what remains the one
    closest to zero is returned.
    """
    if any(c >= 0 for c in candidates) and any(c < 0 for c in candidates):
        candidates = [c for c in candidates if c >= 0]
    return min(candidates, key=abs)


def irr(values: Sequence[Number], *, raise_exceptions: bool = False) -> Decimal:
    """Internal rate of return: the rate where ``npv(rate, values)`` is zero.

    All real roots above -100% are found; when there are several, numpy-financial's
    selection applies (keep the non-negative ones if signs are mixed, then the one
    closest to zero). NaN when there is none.
    """
    flows = [_dec(v) for v in values]
    while flows and flows[-1] == 0:
        flows.pop()
    while flows and flows[0] == 0:
        flows.pop(0)
    if not flows or all(v > 0 for v in flows if v) or all(v < 0 for v in flows if v):
        if raise_exceptions:
            raise NoRealSolutionError("cash flows of one sign have no internal rate of return")
        return NAN
    with localcontext(_WORK):
        growth_roots = _real_growth_roots(flows)
    candidates = [_WORK.subtract(g, 1) for g in growth_roots if g > 0]
    if not candidates:
        if raise_exceptions:
            raise NoRealSolutionError("no real internal rate of return above -100%")
        return NAN
    # Grid neighbours can refine to the same root: keep distinct ones only.
    distinct: list[Decimal] = []
    for candidate in sorted(candidates):
        if not distinct or abs(candidate - distinct[-1]) > Decimal("1e-20") * (1 + abs(candidate)):
            distinct.append(candidate)
    return _out(_select_irr(distinct))


def mirr(values: Sequence[Number], finance_rate: Number, reinvest_rate: Number) -> Decimal:
    """Modified IRR: outflows financed at ``finance_rate``, inflows reinvested (numpy's)."""
    flows = [_dec(v) for v in values]
    if not any(v > 0 for v in flows) or not any(v < 0 for v in flows):
        return NAN
    fr, rr = _dec(finance_rate), _dec(reinvest_rate)
    positive = abs(npv(rr, [v if v > 0 else Decimal(0) for v in flows]))
    negative = abs(npv(fr, [v if v < 0 else Decimal(0) for v in flows]))
    exponent = _WORK.divide(1, len(flows) - 1)
    growth = _WORK.power(_WORK.divide(positive, negative), exponent)
    return _out(_WORK.subtract(_WORK.multiply(growth, _WORK.add(1, rr)), 1))
