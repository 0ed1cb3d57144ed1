"""numpy-financial-style functions in Decimal, against numpy-financial's own tests.

Values from github.com/numpy/numpy-financial numpy_financial/tests/test_financial.py;
Google Sheets figures there are compared at the tolerance that file uses.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lendcore.finance import tvm

D = Decimal


def close(actual: Decimal, expected: str, *, atol: str = "1e-9", rtol: str = "0") -> bool:
    wanted = D(expected)
    return abs(actual - wanted) <= max(D(atol), D(rtol) * abs(wanted))


def test_pv_decimal() -> None:
    result = tvm.pv(D("0.07"), D("20"), D("12000"), D("0"))
    assert close(result, "-127128.1709461939327295222005")


def test_pmt_zero_rate_and_broadcast_values() -> None:
    assert tvm.pmt(D("0"), D("60"), D("15000")) == -250
    assert close(tvm.pmt(D("0.8"), D("3"), D("20000")), "-19311.25827814569536423841060")
    assert close(tvm.pmt(D("0.3"), D("12"), D("2000")), "-626.9081401700757748402586600")
    assert close(tvm.pmt(D("0"), D("12"), D("2000")), "-166.6666666666666666666666667")


def test_ppmt_decimal() -> None:
    assert close(tvm.ppmt(D("0.1") / D("12"), 1, 60, 55000), "-710.2541257864217612489830917")
    # Decimal is more exact than the float test's -90238044.232277036
    assert close(
        tvm.ppmt(D("0.23") / D("12"), 1, 60, D("10000000000")), "-90238044.2322778884413969909"
    )


@pytest.mark.parametrize(("per", "expected"), [(2, "-594.107158"), (3, "-592.971592")])
def test_ipmt_when_begin_gh_17(per: int, expected: str) -> None:
    result = tvm.ipmt(0.001988079518355057, per, 360, 300000, when="begin")
    assert close(result, expected, rtol="1e-6")


def test_ipmt_edges() -> None:
    assert tvm.ipmt(D("0.1") / 12, 1, 24, 2000, 0, "begin") == 0
    assert tvm.ipmt(D("0.1") / 12, 1, 24, 2000, 0, 1) == 0
    assert tvm.ipmt(0.1 / 12, 0, 24, 2000).is_nan()
    for per, expected in [(2, "-16.03647345"), (3, "-15.40102862"), (4, "-14.76028842")]:
        assert close(tvm.ipmt(D("0.1") / 12, per, 24, 2000), expected, atol="1e-8")


def test_ppmt_broadcast_values_with_when() -> None:
    rate = D("0.1") / D("12")
    assert close(tvm.ppmt(rate, 1, 24, 2000), "-75.62318601", atol="1e-8")
    assert close(tvm.ppmt(rate, 2, 24, 2000, 0, 1), "-75.62318601", atol="1e-8")
    assert close(tvm.ppmt(rate, 4, 24, 2000, 0, "begin"), "-76.88882405", atol="1e-8")


def test_fv_when_begin() -> None:
    assert close(
        tvm.fv(D("0.075"), D("20"), D("-2000"), D("0"), "begin"), "93105.064874", atol="5e-7"
    )
    assert close(tvm.fv(0.1, 5, 100, 0, 1), "-671.561", rtol="1e-10")
    assert close(tvm.fv(0, 5, 100, 0), "-500")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((D("0"), -2000, 0, 100000), "50"),
        ((0.075, -2000, 0, 100000), "21.544944"),
        ((0.075, -2000, 0, 100000, 1), "20.76156441"),
        ((0.1, 0, -500, 1500), "11.52670461"),
        ((0, -100, 1000), "10"),
    ],
)
def test_nper(args: tuple[object, ...], expected: str) -> None:
    assert close(tvm.nper(*args), expected, rtol="1e-5")  # type: ignore[arg-type]


def test_nper_without_payment_at_zero_rate_is_infinite() -> None:
    assert tvm.nper(0, -0.0, 1000) == D("Infinity")


def test_rate_is_the_exact_root_not_a_loose_newton_stop() -> None:
    result = tvm.rate(D("10"), D("0"), D("-3500"), D("10000"))
    exact = (D("10000") / D("3500")) ** (D(1) / D(10)) - 1  # 0.11069085371075280625...
    assert abs(result - exact) < D("1e-20")
    assert close(result, "0.1106908537142689284704528100", rtol="1e-4")


def test_rate_with_numpy_financial_tolerance_reproduces_its_newton_stop() -> None:
    loose = tvm.rate(D("10"), D("0"), D("-3500"), D("10000"), tol=D("1e-6"))
    assert close(loose, "0.1106908537142689284704528100", atol="1e-20")


@pytest.mark.parametrize("when", [0, 1, "end", "begin"])
def test_rate_without_a_feasible_solution_is_nan(when: object) -> None:
    assert tvm.rate(D("12"), D("400"), D("10000"), D("5000"), when=when).is_nan()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="did not converge"):
        tvm.rate(12, 400, 10000, 5000, when=when, raise_exceptions=True)  # type: ignore[arg-type]


def test_when_spellings_agree() -> None:
    assert tvm.rate(10, 20, -3500, 10000, 1) == tvm.rate(10, 20, -3500, 10000, "begin")
    assert tvm.pv(0.07, 20, 12000, 0, 0) == tvm.pv(0.07, 20, 12000, 0, "end")
    assert tvm.pmt(0.08 / 12, 60, 15000.0, 0, D("1")) == tvm.pmt(0.08 / 12, 60, 15000.0, 0, "begin")
    with pytest.raises(ValueError, match="when"):
        tvm.pmt(0.01, 12, 1000, 0, "middle")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([-150000, 15000, 25000, 35000, 45000, 60000], "0.0524"),
        ([-100, 0, 0, 74], "-0.0955"),
        ([-100, 39, 59, 55, 20], "0.28095"),
        ([-100, 100, 0, -7], "-0.0833"),
        ([-100, 100, 0, 7], "0.06206"),
        ([-5, 10.5, 1, -8, 1], "0.0886"),
        ([-5, 10.5, 1, -8, 1, 0, 0, 0], "0.0886"),
    ],
)
def test_irr_basic_values(values: list[float], expected: str) -> None:
    assert close(tvm.irr(values), expected, atol="0.005")


def test_irr_with_two_real_roots_returns_the_documented_one() -> None:
    values = [-1678.87, 771.96, 1814.05, 3520.30, 3552.95, 3584.99, 4789.91, -1]
    assert close(tvm.irr(values), "1.00426", rtol="1e-4")


def test_irr_of_a_tiny_growth_factor_gh_15() -> None:
    values = [-3000.0] + [float(f"1e-{9 * k}") * 2.39 for k in range(1, 30)]
    result = tvm.irr(values)
    assert result.is_finite()
    assert D(-1) < result < D(-0.99)


def test_irr_and_npv_agree() -> None:
    cashflows = [-40000, 5000, 8000, 12000, 30000]
    assert abs(tvm.npv(tvm.irr(cashflows), cashflows)) < D("1e-10")


def test_irr_without_a_sign_change_is_nan() -> None:
    assert tvm.irr([-1, -2, -3]).is_nan()
    with pytest.raises(ValueError, match="of one sign"):
        tvm.irr([1, 2, 3], raise_exceptions=True)


def test_npv_decimal() -> None:
    result = tvm.npv(D("0.05"), [-15000, 1500, 2500, 3500, 4500, 6000])
    assert close(result, "122.894854950942692161628715")


@pytest.mark.parametrize(
    ("values", "finance", "reinvest", "expected"),
    [
        (
            [-4500, -800, 800, 800, 600, 600, 800, 800, 700, 3000],
            "0.08",
            "0.055",
            "0.066597175031553548874239618",
        ),
        (
            [-120000, 39000, 30000, 21000, 37000, 46000],
            "0.10",
            "0.12",
            "0.126094130365905145828421880",
        ),
        ([100, 200, -50, 300, -200], "0.05", "0.06", "0.342823387842176663647819868"),
    ],
)
def test_mirr(values: list[int], finance: str, reinvest: str, expected: str) -> None:
    assert close(tvm.mirr(values, D(finance), D(reinvest)), expected)


def test_mirr_without_both_signs_is_nan() -> None:
    assert tvm.mirr([39000, 30000, 21000, 37000, 46000], D("0.10"), D("0.12")).is_nan()


def test_string_and_int_inputs() -> None:
    assert tvm.pmt("0.01", "12", "1200") == tvm.pmt(D("0.01"), 12, 1200)
