"""Every published case in vectors/finance.json, through lendcore.finance's public API.

The vectors are a verbatim copy of the shared set (sources kept in each case). A stated
tolerance tighter than 1e-9 is checked at 1e-9, as the vectors' README says. Accrual
cases run here through the pure accrual functions; servicing checks them again through
a real loan.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import date, timedelta
from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from lendcore.finance import tvm
from lendcore.finance.accrual import daily_interest, per_diem
from lendcore.finance.apr import UNITS_PER_YEAR, actuarial_apr, regz_apr, unit_periods
from lendcore.finance.dates import add_months
from lendcore.finance.daycount import day_count, year_fraction
from lendcore.finance.money import round_money
from lendcore.finance.schedule import LoanTerms, build_schedule, semimonthly_dates

VECTORS_PATH = Path(__file__).parent / "vectors" / "finance.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())
FLOOR_TOLERANCE = Decimal("1e-9")


def cases_of(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in CASES if case["kind"] == kind]


def test_every_case_kind_is_covered() -> None:
    kinds = {case["kind"] for case in CASES}
    assert kinds <= {"apr", "payment", "schedule", "daycount", "accrual"}
    assert len(CASES) == 46


# --- apr ---------------------------------------------------------------------------

UNIT_NAMES = {
    "1 month": "month",
    "2 month": "2month",
    "3 month": "quarter",
    "6 month": "semiyear",
    "12 month": "year",
    "1 week": "week",
    "2 week": "2week",
    "4 week": "4week",
    "semimonth": "semimonth",
    "1 semimonth": "semimonth",
    "1 day": "day",
}


def stream_dates(first: date, count: int, unit: str) -> list[date]:
    """The due dates of a regular payment stream starting on ``first``."""
    if unit == "semimonth":
        return semimonthly_dates(first, count)
    days = {"day": 1, "week": 7, "2week": 14, "4week": 28}.get(unit)
    if days is not None:
        return [first + timedelta(days=k * days) for k in range(count)]
    months = {"month": 1, "2month": 2, "quarter": 3, "semiyear": 6, "year": 12}[unit]
    return [add_months(first, k * months, anchor_day=first.day) for k in range(count)]


def published_apr_matches(apr: Decimal, expected: str) -> bool:
    return round_money(apr, 2) == Decimal(expected)


@pytest.mark.parametrize("case", cases_of("apr"))
def test_apr_vector(case: dict[str, Any]) -> None:
    inputs, expected = case["inputs"], case["expected"]["apr_pct"]
    amount_financed = Decimal(str(inputs["amount_financed"]))
    if "payment_streams" not in inputs:
        # Given: flows already expressed as (t, f) unit periods.
        payments = [
            (Decimal(str(p["amount"])), int(p["t"]), Fraction(str(p["f"])))
            for p in inputs["payments"]
        ]
        # When
        apr = actuarial_apr([(amount_financed, 0, 0)], payments, inputs["unit_periods_per_year"])
        # Then
        assert published_apr_matches(apr, expected), apr
        return

    # Given: payment streams by date.
    unit = UNIT_NAMES[inputs["unit_period"]]
    consummation = date.fromisoformat(inputs["consummation_date"])
    payments_by_date: list[tuple[date, Decimal]] = []
    for stream in inputs["payment_streams"]:
        dates = stream_dates(date.fromisoformat(stream["first_date"]), stream["count"], unit)
        assert dates[-1] == date.fromisoformat(stream["last_date"])
        payments_by_date += [(d, Decimal(str(stream["amount"]))) for d in dates]
    first_period = re.fullmatch(r"t=(\d+) full unit-periods \+ f=(\S+)", inputs["first_period"])
    assert first_period is not None

    # When
    inferred = regz_apr(amount_financed, consummation, payments_by_date)
    explicit = regz_apr(amount_financed, consummation, payments_by_date, unit=unit)
    first_t, first_f = unit_periods(consummation, payments_by_date[0][0], unit)

    # Then
    assert published_apr_matches(inferred, expected), inferred
    assert published_apr_matches(explicit, expected), explicit
    assert (first_t, first_f) == (int(first_period[1]), Fraction(first_period[2]))
    assert UNITS_PER_YEAR[unit] == inputs["unit_periods_per_year"]


# --- payment (numpy-financial style) -------------------------------------------------

_EXACT = Context(prec=40)
_OPERATORS = {
    ast.Add: _EXACT.add,
    ast.Sub: _EXACT.subtract,
    ast.Mult: _EXACT.multiply,
    ast.Div: _EXACT.divide,
}


def evaluate_call(source: str) -> Decimal:
    """Evaluate a vector's ``npf.<fn>(...)`` expression against lendcore.finance.tvm.

    Numeric literals become Decimals (0.08/12 is the exact quotient, as in
    numpy-financial's Decimal tests); only arithmetic, lists and npf calls are allowed.
    """

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return Decimal(str(node.value))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return _EXACT.minus(value(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.List):
            return [value(element) for element in node.elts]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "npf"
        ):
            function = getattr(tvm, node.func.attr)
            args = [value(a) for a in node.args]
            kwargs = {k.arg: value(k.value) for k in node.keywords if k.arg}
            return function(*args, **kwargs)
        raise ValueError(f"unsupported expression: {ast.dump(node)}")

    return value(ast.parse(source, mode="eval").body)


def within(actual: Decimal, expected: Decimal, tolerance: str) -> bool:
    match = re.fullmatch(r"(atol|rtol)=(\S+)", tolerance)
    assert match is not None, tolerance
    limit = max(Decimal(match[2]), FLOOR_TOLERANCE)
    if match[1] == "rtol":
        limit *= abs(expected)
    return abs(actual - expected) <= limit


@pytest.mark.parametrize("case", cases_of("payment"))
def test_payment_vector(case: dict[str, Any]) -> None:
    # Given
    expected = Decimal(case["expected"]["value"])
    # When
    actual = evaluate_call(case["inputs"]["call"])
    # Then
    assert isinstance(actual, Decimal)
    assert within(actual, expected, case["tolerance"]), actual


def test_float_inputs_give_the_same_payment_as_decimal_inputs() -> None:
    from_floats = tvm.pmt(0.08 / 12, 5 * 12, 15000)
    assert abs(from_floats - Decimal("-304.1459143262052370338701494")) < Decimal("1e-9")


# --- daycount -----------------------------------------------------------------------

CONVENTIONS = {
    "30/360 Bond Basis (ISDA 2006 4.16(f))": "30/360-BOND",
    "30/360 US (SIA, end-of-February rule)": "30/360",
    "30E/360 Eurobond Basis (ISDA 2006 4.16(g))": "30E/360",
    "30E/360 ISDA (ISDA 2006 4.16(h))": "30E/360-ISDA",
    "Actual/Actual (ISDA)": "ACT/ACT-ISDA",
    "Actual/365 Fixed": "ACT/365F",
    "Actual/360": "ACT/360",
}


@pytest.mark.parametrize("case", cases_of("daycount"))
def test_daycount_vector(case: dict[str, Any]) -> None:
    inputs, expected = case["inputs"], case["expected"]
    start, end = date.fromisoformat(inputs["start"]), date.fromisoformat(inputs["end"])
    convention = inputs["convention"]
    unit_match = re.fullmatch(r"Reg Z Appendix J unit-periods \((.+)\)", convention)
    if unit_match:
        t, f = unit_periods(start, end, UNIT_NAMES[unit_match[1]])
        assert t == expected["t_full_unit_periods"]
        assert f == Fraction(expected["f_fraction"])
        return

    basis = CONVENTIONS[convention]
    maturity = inputs.get("termination_date")
    maturity_date = date.fromisoformat(maturity) if maturity else None
    fraction = year_fraction(start, end, basis, maturity=maturity_date)
    if "day_count" in expected:
        assert day_count(start, end, basis, maturity=maturity_date) == expected["day_count"]
        assert fraction == Fraction(expected["day_count"], 360)
    if "year_fraction" in expected:
        published = expected["year_fraction"]
        if isinstance(published, str):
            assert fraction == Fraction(published)
        else:
            limit = max(Fraction(str(case["tolerance"])), Fraction(1, 10**9))
            assert abs(fraction - Fraction(str(published))) <= limit


# --- accrual ------------------------------------------------------------------------

DAY_BASES = {"365.25": "ACT/365.25", "365": "ACT/365F", "360": "ACT/360"}


@pytest.mark.parametrize("case", cases_of("accrual"))
def test_accrual_vector(case: dict[str, Any]) -> None:
    # Given
    inputs, expected = case["inputs"], case["expected"]
    basis = DAY_BASES[str(inputs["day_basis"])]
    principal, rate = Decimal(inputs["principal"]), Decimal(inputs["annual_rate"])
    start = date(2023, 3, 1)
    end = start + timedelta(days=inputs["days"])

    # When: interest accrues daily, unrounded, and is rounded once when the payment posts.
    daily = per_diem(principal, rate, basis)
    accrued = round_money(daily_interest(principal, rate, start, end, basis))
    to_principal = Decimal(inputs["payment"]) - accrued

    # Then
    assert round_money(daily, 4) == Decimal(expected["daily_interest"])
    interest_key = "accrued_interest" if "accrued_interest" in expected else "interest_31_days"
    assert accrued == Decimal(expected[interest_key])
    assert to_principal == Decimal(expected["to_principal"])
    if "new_balance" in expected:
        assert principal - to_principal == Decimal(expected["new_balance"])


# --- schedule -----------------------------------------------------------------------


def terms_from_inputs(inputs: dict[str, Any]) -> LoanTerms:
    repayments = re.fullmatch(r"(\d+) monthly(?: from (\S+))?", inputs["repayments"])
    assert repayments is not None, inputs["repayments"]
    disbursed = inputs.get("disbursed") or repayments[2]
    multiple = inputs.get("installment_multiple")
    amortization = inputs.get("amortization", "level").replace(" ", "_")
    return LoanTerms(
        principal=Decimal(inputs["principal"]),
        annual_rate=Decimal(inputs["annual_rate"]),
        n_periods=int(repayments[1]),
        frequency="monthly",
        disbursement_date=date.fromisoformat(disbursed),
        amortization="equal_principal" if amortization == "equal_principal" else "level",
        day_count="30/360",
        payment_rounding=Decimal(str(multiple)) if multiple else Decimal("0.01"),
    )


def money_list(text: str) -> list[Decimal]:
    return [Decimal(part) for part in text.split(",")]


@pytest.mark.parametrize("case", cases_of("schedule"))
def test_schedule_vector(case: dict[str, Any]) -> None:
    # Given
    terms = terms_from_inputs(case["inputs"])
    # When
    schedule = build_schedule(terms)
    rows = schedule.installments
    actual = {
        "emi": schedule.payment,
        "installment": schedule.payment,
        "interest": [row.interest for row in rows],
        "principal": [row.principal for row in rows],
        "last_installment": rows[-1].payment,
        "final_installment": rows[-1].payment,
        "total_interest": schedule.total_interest,
        "first_interest": rows[0].interest,
        "principal_2": rows[1].principal,
        "principal_part": rows[0].principal,
        "last_principal": rows[-1].principal,
        "total_due": schedule.total_payments,
    }
    # Then
    for key, published in case["expected"].items():
        wanted = money_list(published) if "," in published else Decimal(published)
        assert actual[key] == wanted, key
        assert str(actual[key]) == str(wanted), key
    assert sum(row.principal for row in rows) == terms.principal
    assert rows[-1].balance == Decimal("0.00")
    if terms.amortization == "equal_principal":
        assert {row.principal for row in rows[:-1]} == {Decimal(case["expected"]["principal_part"])}
