"""POST /api/v1/apr/: Regulation Z Appendix J APR of a payment stream."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from lendcore.finance.dates import add_months

URL = reverse("api:apr")

pytestmark = pytest.mark.django_db


def _monthly(first: date, count: int, amount: str) -> list[dict]:
    return [{"date": add_months(first, k).isoformat(), "amount": amount} for k in range(count)]


def _post(client, body):
    return client.post(URL, body, format="json")


def _bad_fields(response) -> set[str]:
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    return set(response.json()["extra"]["fields"])


def _c1i(**overrides):
    body = {
        "amount_financed": "5000.00",
        "consummation_date": "1978-01-10",
        "payments": _monthly(date(1978, 2, 10), 24, "230.00"),
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def test_appendix_j_c1i_monthly_regular_first_period(api_client):
    # Given Appendix J (c)(1)(i): 5000 financed on 10 Jan 1978, 24 monthly payments of 230
    # When its APR is asked for, anonymously
    response = _post(api_client, _c1i())
    # Then it is the published 9.69%, on the monthly unit period it infers
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["apr"] == "9.69"
    assert data["unit"] == "month"
    assert data["unit_periods_per_year"] == "12"
    assert data["apr_exact"].startswith("9.68")
    assert len(data["apr_exact"].split(".")[1]) >= 6
    assert data["amount_financed"] == "5000.00"
    assert data["consummation_date"] == "1978-01-10"


def test_appendix_j_c1iii_semimonthly_short_first_period(api_client):
    # 24 payments of 219.17 on the 1st and 16th from 1 Mar 1978, consummation 23 Feb 1978
    payments = []
    for k in range(12):
        month = add_months(date(1978, 3, 1), k)
        payments.append({"date": month.isoformat(), "amount": "219.17"})
        payments.append({"date": month.replace(day=16).isoformat(), "amount": "219.17"})
    body = {"amount_financed": "5000", "consummation_date": "1978-02-23", "payments": payments}
    data = _post(api_client, body).json()
    assert data["apr"] == "10.34"
    assert data["unit"] == "semimonth"


def test_an_explicit_unit_is_used_and_reported(api_client):
    data = _post(api_client, _c1i(unit="month")).json()
    assert data["unit"] == "month"
    assert data["apr"] == "9.69"


def test_payment_order_does_not_matter(api_client):
    body = _c1i()
    body["payments"] = list(reversed(body["payments"]))
    assert _post(api_client, body).json()["apr"] == "9.69"


def test_single_payment_within_a_year_is_one_unit_period(api_client):
    body = {
        "amount_financed": "1000.00",
        "consummation_date": "2025-01-15",
        "payments": [{"date": "2025-07-15", "amount": "1050.00"}],
    }
    data = _post(api_client, body).json()
    assert data["unit"] == "term"
    assert data["unit_periods_per_year"] == "2"
    assert data["apr"] == "10.00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_financed": "0"}, "amount_financed"),
        ({"amount_financed": "-100"}, "amount_financed"),
        ({"amount_financed": "100000000.01"}, "amount_financed"),
        ({"amount_financed": "5000.001"}, "amount_financed"),
        ({"amount_financed": "NaN"}, "amount_financed"),
        ({"amount_financed": "Infinity"}, "amount_financed"),
        ({"amount_financed": "1e999"}, "amount_financed"),
        ({"amount_financed": "lots"}, "amount_financed"),
        ({"amount_financed": ...}, "amount_financed"),
        ({"consummation_date": "1978-13-01"}, "consummation_date"),
        ({"consummation_date": "1800-01-01"}, "consummation_date"),
        ({"consummation_date": ...}, "consummation_date"),
        ({"payments": []}, "payments"),
        ({"payments": "monthly"}, "payments"),
        ({"payments": [{"date": "1978-02-10"}]}, "payments"),
        ({"payments": [{"date": "1978-02-10", "amount": "0"}]}, "payments"),
        ({"payments": [{"date": "1978-02-10", "amount": "NaN"}]}, "payments"),
        ({"payments": [{"date": "1978-02-30", "amount": "230"}]}, "payments"),
        ({"payments": [{"date": "1978-01-10", "amount": "5100"}]}, "payments"),
        ({"payments": [{"date": "1977-12-10", "amount": "5100"}]}, "payments"),
        ({"payments": ...}, "payments"),
        ({"unit": "fortnight"}, "unit"),
    ],
)
def test_bad_input_is_400_naming_the_field(api_client, overrides, field):
    assert _bad_fields(_post(api_client, _c1i(**overrides))) == {field}


def test_every_bad_field_is_named_at_once(api_client):
    body = {"amount_financed": "-1", "consummation_date": "x", "payments": [], "unit": "eon"}
    assert _bad_fields(_post(api_client, body)) == {
        "amount_financed",
        "consummation_date",
        "payments",
        "unit",
    }


@pytest.mark.parametrize("raw", ["", "[]", "{", "not json"])
def test_empty_or_malformed_body_is_400(api_client, raw):
    response = api_client.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        # Payments far smaller than the amount financed (no rate balances them: 400), or
        # absurdly larger (an absurd APR, still an answer).
        ([{"date": "1978-02-10", "amount": "0.01"}], 400),
        ([{"date": "1978-01-11", "amount": "100000000.00"}], 200),
        ([{"date": "2999-12-31", "amount": "0.01"}, {"date": "1978-01-11", "amount": "0.01"}], 200),
        ([{"date": "1978-01-11", "amount": "1.00"}] * 1200, 200),
    ],
)
def test_extreme_streams_never_500(api_client, payments, expected):
    response = _post(api_client, _c1i(payments=payments))
    assert response.status_code == expected, response.content
    if expected == 400:
        assert response.json()["extra"]["fields"]["payments"] == [
            "no unit-period rate balances these advances and payments"
        ]
