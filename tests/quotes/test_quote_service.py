"""quote_build and apr_compute: the Truth in Lending arithmetic around the finance kernel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

import pytest

from lendcore.errors import ValidationFailed
from lendcore.finance.money import round_money
from lendcore.quotes.services import Fee, apr_compute, quote_build

DISBURSED = date(2025, 1, 15)


def _quote(**overrides):
    terms = {
        "principal": Decimal("5000.00"),
        "annual_rate_pct": Decimal("12"),
        "term": 18,
        "frequency": "monthly",
        "amortization": "level",
        "interest_method": "declining",
        "day_count": "30/360",
        "disbursement_date": DISBURSED,
    }
    terms.update(overrides)
    return quote_build(**terms)


def _annuity_payment(principal: Decimal, monthly_rate: Decimal, n: int) -> Decimal:
    """PMT = P * r / (1 - (1 + r)^-n), by hand in 50-digit Decimal."""
    with localcontext() as ctx:
        ctx.prec = 50
        exact = principal * monthly_rate / (1 - (1 + monthly_rate) ** -n)
    return round_money(exact)


def _monthly_apr(amount_financed: Decimal, payments: list[Decimal]) -> Decimal:
    """APR of a regular monthly stream (first payment one month out), by bisection."""
    low, high = Decimal("0"), Decimal("1")
    with localcontext() as ctx:
        ctx.prec = 50
        for _ in range(200):
            mid = (low + high) / 2
            value = sum(p / (1 + mid) ** k for k, p in enumerate(payments, start=1))
            if value > amount_financed:
                low = mid
            else:
                high = mid
        return (low + high) / 2 * 12 * 100


def test_worked_example_5000_at_12_percent_over_18_months():
    # Given 5000 at 12% a year, 18 monthly payments, 30/360
    # When quoted
    quote = _quote()
    # Then the level payment is the annuity formula's, rounded to the cent
    expected = _annuity_payment(Decimal("5000"), Decimal("0.01"), 18)
    assert expected == Decimal("304.91")
    assert quote.payment == expected
    assert len(quote.installments) == 18
    assert [item.number for item in quote.installments] == list(range(1, 19))
    assert quote.installments[0].due_date == date(2025, 2, 15)
    assert quote.installments[0].interest == Decimal("50.00")
    assert quote.installments[0].principal == Decimal("254.91")
    # and the schedule repays the note exactly
    assert sum(item.principal for item in quote.installments) == Decimal("5000.00")
    assert quote.installments[-1].balance == Decimal("0.00")
    assert quote.total_of_payments == sum(item.payment for item in quote.installments)
    assert quote.total_interest == quote.total_of_payments - Decimal("5000.00")


def test_no_fees_amount_financed_is_principal_and_apr_is_note_rate():
    quote = _quote()
    assert quote.note_principal == Decimal("5000.00")
    assert quote.amount_financed == Decimal("5000.00")
    assert quote.finance_charge == quote.total_interest
    assert quote.apr == Decimal("12.00")
    assert abs(quote.apr_exact - Decimal("12")) < Decimal("0.01")


def test_apr_matches_an_independent_actuarial_solution():
    quote = _quote(fees=[Fee(name="Origination", amount=Decimal("150.00"), kind="prepaid")])
    independent = _monthly_apr(quote.amount_financed, [i.payment for i in quote.installments])
    assert abs(quote.apr_exact - independent) < Decimal("0.000001")


def test_prepaid_fee_is_deducted_from_the_proceeds():
    # Given a 100.00 fee paid out of the proceeds
    quote = _quote(fees=[{"name": "Origination", "amount": Decimal("100.00"), "kind": "prepaid"}])
    plain = _quote()
    # Then the note and payments are unchanged, the borrower gets 100 less
    assert quote.note_principal == Decimal("5000.00")
    assert quote.payment == plain.payment
    assert quote.amount_financed == Decimal("4900.00")
    assert quote.prepaid_fees == Decimal("100.00")
    # and the fee is a finance charge: the APR is above the note rate
    assert quote.finance_charge == quote.total_interest + Decimal("100.00")
    assert quote.apr > Decimal("12.00")
    assert quote.apr == round_money(quote.apr_exact)


def test_financed_fee_is_added_to_the_note():
    # Given a 100.00 fee added to the loan
    quote = _quote(fees=[Fee(name="Documentation", amount=Decimal("100.00"), kind="financed")])
    # Then the schedule amortizes 5100.00, the borrower still gets 5000.00
    assert quote.note_principal == Decimal("5100.00")
    assert sum(item.principal for item in quote.installments) == Decimal("5100.00")
    assert quote.amount_financed == Decimal("5000.00")
    assert quote.financed_fees == Decimal("100.00")
    assert quote.payment == _annuity_payment(Decimal("5100"), Decimal("0.01"), 18)
    assert quote.apr > Decimal("12.00")


@pytest.mark.parametrize(
    "fees",
    [
        [],
        [Fee(name="A", amount=Decimal("99.99"), kind="prepaid")],
        [Fee(name="B", amount=Decimal("250.00"), kind="financed")],
        [
            Fee(name="A", amount=Decimal("75.00"), kind="prepaid"),
            Fee(name="B", amount=Decimal("33.33"), kind="financed"),
        ],
    ],
)
def test_finance_charge_is_total_of_payments_less_amount_financed_exactly(fees):
    quote = _quote(fees=fees)
    assert quote.finance_charge == quote.total_of_payments - quote.amount_financed
    assert quote.total_of_payments == sum(item.payment for item in quote.installments)


def test_zero_rate_has_zero_apr_and_no_interest():
    quote = _quote(annual_rate_pct=Decimal("0"))
    assert quote.total_interest == Decimal("0.00")
    assert quote.finance_charge == Decimal("0.00")
    assert quote.apr == Decimal("0.00")


def test_first_due_date_moves_the_schedule():
    quote = _quote(first_due_date=date(2025, 3, 1))
    assert quote.installments[0].due_date == date(2025, 3, 1)
    assert quote.first_due_date == date(2025, 3, 1)


def _fields(excinfo) -> set[str]:
    return set(excinfo.value.extra["fields"])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": Decimal("0")}, "principal"),
        ({"principal": Decimal("100000000.01")}, "principal"),
        ({"annual_rate_pct": Decimal("-0.1")}, "annual_rate"),
        ({"annual_rate_pct": Decimal("100.01")}, "annual_rate"),
        ({"term": 0}, "term"),
        ({"term": 601}, "term"),
        ({"frequency": "fortnightly"}, "frequency"),
        ({"amortization": "balloon"}, "amortization"),
        ({"interest_method": "rule78"}, "interest_method"),
        ({"day_count": "ACT/999"}, "day_count"),
        ({"payment_rounding": Decimal("0")}, "payment_rounding"),
        ({"first_due_date": DISBURSED}, "first_due_date"),
        ({"first_due_date": date(2024, 12, 1)}, "first_due_date"),
        ({"disbursement_date": date(1800, 1, 1)}, "disbursement_date"),
        ({"fees": [Fee(name="Huge", amount=Decimal("5000.00"), kind="prepaid")]}, "fees"),
        (
            {
                "fees": [
                    Fee(name="A", amount=Decimal("2500.00"), kind="prepaid"),
                    Fee(name="B", amount=Decimal("2600.00"), kind="financed"),
                ]
            },
            "fees",
        ),
        ({"fees": [Fee(name="Odd", amount=Decimal("10.00"), kind="upfront")]}, "fees"),
    ],
)
def test_bad_terms_name_the_field(overrides, field):
    with pytest.raises(ValidationFailed) as excinfo:
        _quote(**overrides)
    assert field in _fields(excinfo)
    assert excinfo.value.http_status == 400


def test_every_bad_term_is_named_at_once():
    with pytest.raises(ValidationFailed) as excinfo:
        _quote(principal=Decimal("-1"), term=0, frequency="daily", day_count="x")
    assert _fields(excinfo) == {"principal", "term", "frequency", "day_count"}


def test_apr_compute_appendix_j_c1i():
    payments = [
        (date(1978 + (m + 1) // 12, (m + 1) % 12 + 1, 10), Decimal("230")) for m in range(24)
    ]
    assert payments[0][0] == date(1978, 2, 10)
    assert payments[-1][0] == date(1980, 1, 10)
    result = apr_compute(
        amount_financed=Decimal("5000"), consummation_date=date(1978, 1, 10), payments=payments
    )
    assert result.apr == Decimal("9.69")
    assert result.unit == "month"
    assert result.unit_periods_per_year == 12


def test_apr_compute_single_payment_within_a_year_is_one_unit_period():
    # Appendix J (b)(5)(vi): 1000 repaid by 1050 six months later
    result = apr_compute(
        amount_financed=Decimal("1000"),
        consummation_date=date(2025, 1, 15),
        payments=[(date(2025, 7, 15), Decimal("1050"))],
    )
    assert result.unit == "term"
    assert result.unit_periods_per_year == 2
    assert result.apr == Decimal("10.00")


def test_apr_compute_rejects_payments_on_or_before_consummation():
    with pytest.raises(ValidationFailed) as excinfo:
        apr_compute(
            amount_financed=Decimal("1000"),
            consummation_date=date(2025, 1, 15),
            payments=[(date(2025, 1, 15), Decimal("1050"))],
        )
    assert _fields(excinfo) == {"payments"}


def test_payment_rounding_to_whole_units():
    quote = _quote(payment_rounding=Decimal("1"))
    assert quote.payment == Decimal("305.00")
    assert sum(item.principal for item in quote.installments) == Decimal("5000.00")
    assert quote.finance_charge == quote.total_of_payments - quote.amount_financed


def test_payment_rounding_larger_than_the_installment_is_refused():
    # 50.00 over 12 months is about 4.44 a month: rounding to 100 would bill 100 a month
    with pytest.raises(ValidationFailed) as excinfo:
        _quote(principal=Decimal("50.00"), term=12, payment_rounding=Decimal("100"))
    assert _fields(excinfo) == {"payment_rounding"}


def test_offered_choices_are_the_ones_the_kernel_accepts():
    from lendcore.finance import apr, daycount, schedule
    from lendcore.quotes import services

    assert set(services.FREQUENCIES) == set(schedule.PAYMENTS_PER_YEAR)
    assert set(services.AMORTIZATIONS) == set(schedule.AMORTIZATIONS)
    assert set(services.INTEREST_METHODS) == set(schedule.INTEREST_METHODS)
    assert set(services.DAY_COUNTS) <= set(daycount.BASES)
    assert set(services.APR_UNITS) == set(apr.UNITS_PER_YEAR)
