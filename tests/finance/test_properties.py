"""Hypothesis properties of schedules and the APR that must hold for every loan."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lendcore.finance.apr import regz_apr, within_tolerance
from lendcore.finance.schedule import (
    AMORTIZATIONS,
    INTEREST_METHODS,
    PAYMENTS_PER_YEAR,
    LoanTerms,
    build_schedule,
)

# No example database: the suite must not write files into the work tree.
FAST = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

principals = st.integers(min_value=100_00, max_value=2_000_000_00).map(
    lambda cents: Decimal(cents).scaleb(-2)
)
rates = st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp).scaleb(-4))
positive_rates = st.integers(min_value=1, max_value=3600).map(lambda bp: Decimal(bp).scaleb(-4))
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))
day_counts = st.sampled_from(["30/360", "ACT/365F", "ACT/360", "ACT/ACT-ISDA", "ACT/365.25"])
roundings = st.sampled_from([Decimal("0.01"), Decimal("0.05"), Decimal("1"), Decimal("10")])


@st.composite
def loan_terms(draw: st.DrawFn) -> LoanTerms:
    n_periods = draw(st.integers(min_value=1, max_value=360))
    disbursed = draw(dates)
    odd_days = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=60)))
    return LoanTerms(
        principal=draw(principals),
        annual_rate=draw(rates),
        n_periods=n_periods,
        frequency=draw(st.sampled_from(list(PAYMENTS_PER_YEAR))),
        disbursement_date=disbursed,
        first_due_date=None if odd_days is None else disbursed + timedelta(days=odd_days),
        amortization=draw(st.sampled_from(AMORTIZATIONS)),
        interest_method=draw(st.sampled_from(INTEREST_METHODS)),
        day_count=draw(day_counts),
        payment_rounding=draw(roundings),
        grace_periods=draw(st.integers(min_value=0, max_value=min(n_periods - 1, 6))),
    )


@FAST
@given(terms=loan_terms())
def test_schedule_repays_exactly_the_principal(terms: LoanTerms) -> None:
    # When
    schedule = build_schedule(terms)
    rows = schedule.installments
    # Then
    assert len(rows) == terms.n_periods
    assert sum(row.principal for row in rows) == terms.principal
    assert rows[-1].balance == Decimal("0.00")
    assert schedule.total_payments == schedule.total_interest + terms.principal
    for row in rows:
        assert row.principal >= 0
        assert row.interest >= 0
        assert row.balance >= 0
        assert row.payment == row.principal + row.interest
        assert row.principal.as_tuple().exponent == -2
        assert row.interest.as_tuple().exponent == -2
    assert all(a.due_date < b.due_date for a, b in itertools.pairwise(rows))
    assert rows[0].due_date > terms.disbursement_date
    balances = [terms.principal] + [row.balance for row in rows]
    assert all(a >= b for a, b in itertools.pairwise(balances))


@FAST
@given(
    principal=principals,
    low=rates,
    extra=rates,
    n_periods=st.integers(min_value=1, max_value=360),
    frequency=st.sampled_from(list(PAYMENTS_PER_YEAR)),
    rounding=roundings,
)
def test_level_payment_does_not_fall_as_the_rate_rises(
    principal: Decimal,
    low: Decimal,
    extra: Decimal,
    n_periods: int,
    frequency: str,
    rounding: Decimal,
) -> None:
    def payment(rate: Decimal) -> Decimal:
        terms = LoanTerms(
            principal=principal,
            annual_rate=rate,
            n_periods=n_periods,
            frequency=frequency,
            disbursement_date=date(2024, 1, 15),
            payment_rounding=rounding,
        )
        return build_schedule(terms).payment

    assert payment(low) <= payment(low + extra)


def regular_monthly_terms(principal: Decimal, rate: Decimal, n: int, disbursed: date) -> LoanTerms:
    return LoanTerms(
        principal=principal,
        annual_rate=rate,
        n_periods=n,
        frequency="monthly",
        disbursement_date=disbursed,
        day_count="30/360",
    )


# Below ~$1,000 a cent of payment rounding is a large share of a long loan's payment.
loan_principals = st.integers(min_value=1_000_00, max_value=2_000_000_00).map(
    lambda cents: Decimal(cents).scaleb(-2)
)


@FAST
@given(
    principal=loan_principals,
    rate=rates,
    n=st.integers(min_value=1, max_value=360),
    disbursed=dates,
)
def test_apr_of_a_regular_loan_without_fees_is_its_note_rate(
    principal: Decimal, rate: Decimal, n: int, disbursed: date
) -> None:
    # Given a regular 30/360 monthly level loan and no finance charge but interest
    schedule = build_schedule(regular_monthly_terms(principal, rate, n, disbursed))
    payments = [(row.due_date, row.payment) for row in schedule.installments]
    # When
    apr = regz_apr(principal, disbursed, payments)
    # Then
    assert within_tolerance(apr, rate * 100, irregular=False), (apr, rate)


@FAST
@given(
    principal=loan_principals,
    rate=rates,
    n=st.integers(min_value=1, max_value=360),
    disbursed=dates,
    fee_per_mille=st.integers(min_value=1, max_value=60),
)
def test_a_prepaid_fee_raises_the_apr_above_the_note_rate(
    principal: Decimal, rate: Decimal, n: int, disbursed: date, fee_per_mille: int
) -> None:
    # Given a prepaid finance charge: the amount financed is the principal less the fee
    fee = (principal * fee_per_mille / 1000).quantize(Decimal("0.01"))
    schedule = build_schedule(regular_monthly_terms(principal, rate, n, disbursed))
    payments = [(row.due_date, row.payment) for row in schedule.installments]
    # When
    apr = regz_apr(principal - fee, disbursed, payments)
    # Then
    assert apr > rate * 100


@FAST
@given(
    principal=principals,
    n=st.integers(min_value=1, max_value=120),
    frequency=st.sampled_from(list(PAYMENTS_PER_YEAR)),
)
def test_zero_rate_divides_the_principal_evenly(principal: Decimal, n: int, frequency: str) -> None:
    terms = LoanTerms(
        principal=principal,
        annual_rate=Decimal("0"),
        n_periods=n,
        frequency=frequency,
        disbursement_date=date(2024, 2, 29),
    )
    schedule = build_schedule(terms)
    assert schedule.total_interest == Decimal("0.00")
    assert abs(schedule.payment - principal / n) <= Decimal("0.005")
    assert all(row.payment == schedule.payment for row in schedule.installments[:-1])
