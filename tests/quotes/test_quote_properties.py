"""Any terms the API can accept give a quote that adds up, or a named 400; never a crash."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lendcore.errors import ValidationFailed
from lendcore.quotes import services

money = st.decimals(
    min_value=Decimal("0.01"), max_value=services.MAX_PRINCIPAL, places=2, allow_nan=False
)
small_money = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2, allow_nan=False
)
fees = st.lists(
    st.builds(
        services.Fee,
        name=st.just("fee"),
        amount=small_money,
        kind=st.sampled_from(list(services.FEE_KINDS)),
    ),
    max_size=3,
)


@st.composite
def terms(draw):
    disbursed = draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2200, 12, 31)))
    first_due = draw(
        st.none() | st.integers(min_value=1, max_value=400).map(lambda d: disbursed + timedelta(d))
    )
    return {
        "principal": draw(money),
        "annual_rate_pct": draw(st.decimals(min_value=0, max_value=100, places=4, allow_nan=False)),
        "term": draw(st.integers(min_value=1, max_value=services.MAX_TERM)),
        "frequency": draw(st.sampled_from(list(services.FREQUENCIES))),
        "amortization": draw(st.sampled_from(list(services.AMORTIZATIONS))),
        "interest_method": draw(st.sampled_from(list(services.INTEREST_METHODS))),
        "day_count": draw(st.sampled_from(list(services.DAY_COUNTS))),
        "disbursement_date": disbursed,
        "first_due_date": first_due,
        "payment_rounding": draw(
            st.sampled_from([Decimal(x) for x in ("0.01", "0.05", "1", "100")])
        ),
        "fees": draw(fees),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms())
def test_a_quote_adds_up_or_names_the_bad_field(kwargs):
    try:
        quote = services.quote_build(**kwargs)
    except ValidationFailed as error:
        refused = error
    else:
        refused = None
    if refused is not None:
        assert refused.extra["fields"], refused.message
        return
    assert sum(item.principal for item in quote.installments) == quote.note_principal
    assert quote.installments[-1].balance == Decimal("0.00")
    assert len(quote.installments) == kwargs["term"]
    assert quote.total_of_payments == sum(item.payment for item in quote.installments)
    assert quote.amount_financed == kwargs["principal"] - quote.prepaid_fees
    assert quote.note_principal == kwargs["principal"] + quote.financed_fees
    assert quote.finance_charge == quote.total_of_payments - quote.amount_financed
    assert quote.apr_exact.is_finite()
    if quote.finance_charge == 0:
        assert quote.apr == Decimal("0.00")
    elif quote.finance_charge > 0:
        assert quote.apr_exact > 0
