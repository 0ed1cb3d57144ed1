"""POST /api/v1/quotes/: the HTTP contract, every bad input named, throttling."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.throttling import ScopedRateThrottle

URL = reverse("api:quotes")
MONEY = re.compile(r"^-?\d+\.\d{2}$")

pytestmark = pytest.mark.django_db


def _body(**overrides):
    body = {
        "principal": "10000.00",
        "annual_rate": "9.9",
        "term": 36,
        "frequency": "monthly",
        "disbursement_date": "2025-01-15",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def _post(client, body):
    return client.post(URL, body, format="json")


def _bad_fields(response) -> set[str]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    return set(body["extra"]["fields"])


def test_happy_path_shape_and_string_money(api_client):
    # Given anonymous terms with a prepaid fee
    body = _body(fees=[{"name": "Origination", "amount": "200.00", "kind": "prepaid"}])
    # When quoted
    response = _post(api_client, body)
    # Then every figure is there, money as strings with 2 decimals
    assert response.status_code == 200, response.content
    data = response.json()
    for key in (
        "payment",
        "total_interest",
        "total_of_payments",
        "amount_financed",
        "finance_charge",
        "note_principal",
        "principal",
        "apr",
    ):
        assert isinstance(data[key], str), (key, data[key])
        assert MONEY.match(data[key]), (key, data[key])
    assert re.match(r"^\d+\.\d{6,}$", data["apr_exact"])
    assert data["amount_financed"] == "9800.00"
    assert data["principal"] == "10000.00"
    assert data["payment"] == "322.20"  # 10000 x r / (1 - (1 + r)^-36), r = 0.099 / 12
    assert data["term"] == 36
    assert data["frequency"] == "monthly"
    assert data["amortization"] == "level"
    assert data["interest_method"] == "declining"
    assert data["day_count"] == "30/360"
    assert data["first_due_date"] is None
    assert data["fees"] == [{"name": "Origination", "amount": "200.00", "kind": "prepaid"}]
    assert len(data["installments"]) == 36
    first = data["installments"][0]
    assert set(first) == {"number", "due_date", "principal", "interest", "payment", "balance"}
    assert first["number"] == 1
    assert first["due_date"] == "2025-02-15"
    assert all(MONEY.match(first[k]) for k in ("principal", "interest", "payment", "balance"))
    assert data["installments"][-1]["balance"] == "0.00"
    assert float(data["apr"]) > 9.9


def test_finance_charge_identity_in_the_response(api_client):
    data = _post(
        api_client, _body(fees=[{"name": "Doc", "amount": "50.00", "kind": "financed"}])
    ).json()
    assert Decimal(data["finance_charge"]) == Decimal(data["total_of_payments"]) - Decimal(
        data["amount_financed"]
    )
    assert data["note_principal"] == "10050.00"
    assert data["amount_financed"] == "10000.00"


def test_defaults_and_options_are_echoed(api_client):
    response = _post(
        api_client,
        _body(
            amortization="equal_principal",
            interest_method="declining",
            day_count="ACT/365F",
            first_due_date="2025-03-01",
            payment_rounding="1",
            frequency="biweekly",
            term=26,
        ),
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["first_due_date"] == "2025-03-01"
    assert data["installments"][0]["due_date"] == "2025-03-01"
    assert data["payment_rounding"] == "1.00"
    assert data["day_count"] == "ACT/365F"


def test_anonymous_is_allowed_without_credentials(api_client):
    assert _post(api_client, _body()).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": "0"}, "principal"),
        ({"principal": "-5"}, "principal"),
        ({"principal": "100000000.01"}, "principal"),
        ({"principal": "1000.001"}, "principal"),
        ({"principal": "abc"}, "principal"),
        ({"principal": ""}, "principal"),
        ({"principal": None}, "principal"),
        ({"principal": True}, "principal"),
        ({"principal": ...}, "principal"),
        ({"annual_rate": "-0.01"}, "annual_rate"),
        ({"annual_rate": "100.0001"}, "annual_rate"),
        ({"annual_rate": "7.12345"}, "annual_rate"),
        ({"annual_rate": "seven"}, "annual_rate"),
        ({"annual_rate": ...}, "annual_rate"),
        ({"term": 0}, "term"),
        ({"term": 601}, "term"),
        ({"term": -1}, "term"),
        ({"term": "12.5"}, "term"),
        ({"term": "twelve"}, "term"),
        ({"term": ...}, "term"),
        ({"frequency": "fortnightly"}, "frequency"),
        ({"frequency": ...}, "frequency"),
        ({"amortization": "balloon"}, "amortization"),
        ({"interest_method": "rule_of_78"}, "interest_method"),
        ({"day_count": "30E/999"}, "day_count"),
        ({"disbursement_date": "2025-02-30"}, "disbursement_date"),
        ({"disbursement_date": "yesterday"}, "disbursement_date"),
        ({"disbursement_date": "1066-10-14"}, "disbursement_date"),
        ({"disbursement_date": ...}, "disbursement_date"),
        ({"first_due_date": "2025-01-15"}, "first_due_date"),
        ({"first_due_date": "2024-12-31"}, "first_due_date"),
        ({"first_due_date": "9999-12-31"}, "first_due_date"),
        ({"payment_rounding": "0"}, "payment_rounding"),
        ({"payment_rounding": "-1"}, "payment_rounding"),
        ({"payment_rounding": "0.001"}, "payment_rounding"),
        ({"fees": "none"}, "fees"),
        ({"fees": [{"name": "X", "amount": "0", "kind": "prepaid"}]}, "fees"),
        ({"fees": [{"name": "X", "amount": "1.001", "kind": "prepaid"}]}, "fees"),
        ({"fees": [{"name": "X", "amount": "10", "kind": "upfront"}]}, "fees"),
        ({"fees": [{"amount": "10", "kind": "prepaid"}]}, "fees"),
        ({"fees": [{"name": "All", "amount": "10000.00", "kind": "prepaid"}]}, "fees"),
        (
            {
                "fees": [
                    {"name": "A", "amount": "6000.00", "kind": "prepaid"},
                    {"name": "B", "amount": "4000.00", "kind": "financed"},
                ]
            },
            "fees",
        ),
        (
            {"fees": [{"name": f"F{i}", "amount": "1.00", "kind": "prepaid"} for i in range(21)]},
            "fees",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field(api_client, overrides, field):
    assert _bad_fields(_post(api_client, _body(**overrides))) == {field}


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "Infinity", "-Infinity", "inf", "1e999", "-1e999", "sNaN", "1e-999"]
)
@pytest.mark.parametrize("field", ["principal", "annual_rate", "payment_rounding"])
def test_non_finite_and_huge_numbers_are_400(api_client, field, value):
    assert _bad_fields(_post(api_client, _body(**{field: value}))) == {field}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999"])
def test_non_finite_fee_amount_is_400(api_client, value):
    fees = [{"name": "X", "amount": value, "kind": "prepaid"}]
    assert _bad_fields(_post(api_client, _body(fees=fees))) == {"fees"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_bare_json_number_literals_are_400(api_client, literal):
    raw = json.dumps(_body()).replace('"9.9"', literal)
    response = api_client.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"]


def test_every_bad_field_is_named_at_once(api_client):
    body = _body(
        principal="100000000.01",
        annual_rate="101",
        term=0,
        frequency="daily",
        amortization="x",
        interest_method="y",
        day_count="z",
        first_due_date="2025-01-01",
        payment_rounding="0",
        fees=[{"name": "X", "amount": "-1", "kind": "prepaid"}],
    )
    assert _bad_fields(_post(api_client, body)) == {
        "principal",
        "annual_rate",
        "term",
        "frequency",
        "amortization",
        "interest_method",
        "day_count",
        "first_due_date",
        "payment_rounding",
        "fees",
    }


def test_missing_fields_are_all_named(api_client):
    assert _bad_fields(_post(api_client, {})) == {
        "principal",
        "annual_rate",
        "term",
        "frequency",
        "disbursement_date",
    }


def test_empty_body_is_400(api_client):
    response = api_client.post(URL, "", content_type="application/json")
    assert _bad_fields(response) >= {"principal", "term"}


def test_malformed_json_is_400_with_a_clear_message(api_client):
    response = api_client.post(URL, '{"principal": "10', content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert "JSON parse error" in body["message"]


@pytest.mark.parametrize("raw", ['["principal", "10000"]', '"10000"', "42", "null"])
def test_json_that_is_not_an_object_is_400(api_client, raw):
    response = api_client.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]


def test_form_encoded_body_is_validated_too(api_client):
    response = api_client.post(URL, {"principal": "abc"})
    assert "principal" in _bad_fields(response)


def test_plain_text_body_is_415_with_the_error_body(api_client):
    response = api_client.post(URL, "principal=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"principal": "0.01", "term": 600}, 200),
        ({"principal": "0.01", "term": 600, "frequency": "weekly", "annual_rate": "100"}, 200),
        (
            {"principal": "100000000.00", "term": 600, "annual_rate": "100", "frequency": "annual"},
            200,
        ),
        ({"principal": "1.00", "term": 600, "annual_rate": "0"}, 200),
        ({"principal": "100000000.00", "term": 1, "annual_rate": "0"}, 200),
        # a rounding step above the installment itself is refused
        ({"principal": "50.00", "term": 12, "payment_rounding": "100000.00"}, 400),
        ({"principal": "10.00", "fees": [{"name": "F", "amount": "9.99", "kind": "prepaid"}]}, 200),
        (
            {
                "amortization": "interest_only",
                "interest_method": "flat",
                "day_count": "ACT/ACT-ISDA",
            },
            200,
        ),
        ({"disbursement_date": "2999-12-31", "term": 600, "frequency": "annual"}, 200),
        ({"disbursement_date": "2024-01-31", "first_due_date": "2024-02-29"}, 200),
        ({"first_due_date": "2999-12-31"}, 200),
    ],
)
def test_extreme_but_parseable_terms_never_500(api_client, overrides, expected):
    response = _post(api_client, _body(**overrides))
    assert response.status_code == expected, response.content
    if expected == 400:
        assert response.json()["extra"]["fields"] == {
            "payment_rounding": ["Must not exceed the installment (4.39)."]
        }


def test_throttled_after_the_rate_with_the_error_body(api_client, monkeypatch):
    # Given a quote rate of 3 a minute. DRF binds THROTTLE_RATES when throttling.py is
    # imported, so an override of settings.REST_FRAMEWORK would not reach it: patch the
    # bound rates instead (the autouse fixture clears the cache that holds the history).
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"quote": "3/minute"})
    # When a fourth request arrives within the minute
    statuses = [_post(api_client, _body()).status_code for _ in range(3)]
    response = _post(api_client, _body())
    # Then it is refused with 429 and the one error body
    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["message"]
    assert body["extra"]["retry_after_seconds"] > 0
    assert "Retry-After" in response.headers


def test_the_schema_documents_both_operations(api_client):
    response = api_client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/quotes/"]
    assert "post" in paths["/api/v1/apr/"]
