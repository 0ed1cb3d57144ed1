"""Money inputs of the quote and APR APIs and of the calculator: beyond MONEY_MAX is a 400 (or a
form error) naming the field; at MONEY_MAX the quote's own principal limit (100,000,000)
answers, naming the field too."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from lendcore.finance.dates import add_months

QUOTES = reverse("api:quotes")
APR = reverse("api:apr")
CALCULATOR = reverse("web:calculator-result")

ABOVE = "1000000000.00"
AT_BOUND = "999999999.99"
ABOVE_PRINCIPAL_LIMIT = "Must be at most 100,000,000.00."

pytestmark = pytest.mark.django_db


def _quote(**overrides) -> dict:
    return {
        "principal": "10000.00",
        "annual_rate": "9.9",
        "term": 36,
        "frequency": "monthly",
        "disbursement_date": "2025-01-15",
        **overrides,
    }


def _apr(**overrides) -> dict:
    payments = [
        {"date": add_months(date(1978, 2, 10), k).isoformat(), "amount": "230.00"}
        for k in range(24)
    ]
    return {
        "amount_financed": "5000.00",
        "consummation_date": "1978-01-10",
        "payments": payments,
        **overrides,
    }


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == "invalid"
    return body["extra"]["fields"]


@pytest.mark.parametrize("amount", [ABOVE, AT_BOUND, "1e30"])
def test_quote_principal_beyond_the_limit_is_400_naming_principal(api_client, amount):
    # Given a principal above the quote's limit (at MONEY_MAX, above it, or far above it)
    # When quoted
    response = api_client.post(QUOTES, _quote(principal=amount), format="json")
    # Then the answer names principal with the limit
    assert _fields(response) == {"principal": [ABOVE_PRINCIPAL_LIMIT]}


@pytest.mark.parametrize("amount", [ABOVE, AT_BOUND])
def test_quote_fee_amount_beyond_the_limit_is_400_naming_the_fee(api_client, amount):
    # Given a fee above the limit
    fees = [{"name": "Origination", "amount": amount, "kind": "prepaid"}]
    # When quoted
    response = api_client.post(QUOTES, _quote(fees=fees), format="json")
    # Then the answer names the fee's amount
    assert _fields(response) == {"fees": {"0": {"amount": [ABOVE_PRINCIPAL_LIMIT]}}}


@pytest.mark.parametrize("amount", [ABOVE, AT_BOUND])
def test_apr_amount_financed_beyond_the_limit_is_400(api_client, amount):
    # When an APR is asked for an amount financed above the limit
    response = api_client.post(APR, _apr(amount_financed=amount), format="json")
    # Then the answer names amount_financed
    assert _fields(response) == {"amount_financed": [ABOVE_PRINCIPAL_LIMIT]}


def test_apr_payment_amount_above_the_bound_is_400_naming_the_payment(api_client):
    # Given a payment stream whose first payment is above MONEY_MAX
    body = _apr()
    body["payments"][0]["amount"] = ABOVE
    # When its APR is asked for
    response = api_client.post(APR, body, format="json")
    # Then the answer names that payment's amount
    assert _fields(response) == {"payments": {"0": {"amount": [ABOVE_PRINCIPAL_LIMIT]}}}


@pytest.mark.parametrize("amount", ["1,000,000,000", "999,999,999.99", "1e30"])
def test_calculator_amount_beyond_the_limit_is_a_form_error(client, amount):
    # When the calculator is asked for an amount above the limit
    response = client.get(
        CALCULATOR,
        {"amount": amount, "rate": "9.9", "term": "36", "frequency": "monthly"},
        HTTP_HX_REQUEST="true",
    )
    # Then it is the amount's form error, once
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == ["Enter an amount of at most 100,000,000."]


def test_the_schema_shows_the_money_maximum(api_client):
    # When the OpenAPI schema is fetched
    response = api_client.get("/api/schema/", {"format": "json"})
    # Then the quote's principal documents its minimum and maximum
    assert response.status_code == 200
    principal = response.json()["components"]["schemas"]["QuoteTermsRequest"]["properties"][
        "principal"
    ]
    assert principal["maximum"] == 100000000.0
    assert principal["minimum"] == 0.01
    assert "description" in principal
