"""Servicing API inputs a client can push out of range answer 400 naming the field, never
a 500: money stops at MONEY_MAX, the loan list's days-past-due and borrower filters are
bounded, and every list pages with the bounded limit and offset."""

from __future__ import annotations

from datetime import date

import pytest

from lendcore.api.pagination import MAX_LIMIT
from lendcore.finance.money import MONEY_MAX
from servicing.models import Fee, Payment

HUGE = "99999999999999999999"


@pytest.fixture
def agent(staff_api_client, servicing_agent):
    return staff_api_client(servicing_agent)


def _fields(response) -> list[str]:
    return sorted(response.json()["extra"]["fields"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("dpd_min=1000000", "dpd_min"),
        ("dpd_max=1000000", "dpd_max"),
        (f"dpd_min={HUGE}", "dpd_min"),
        ("dpd_min=1.5", "dpd_min"),
        ("dpd_max=-1", "dpd_max"),
        (f"borrower={HUGE}", "borrower"),
        ("borrower=0", "borrower"),
    ],
)
def test_out_of_range_loan_filters_are_400(agent, loan, query, field):
    # When the loan list is filtered beyond what a date or an id can hold
    response = agent.get(f"/api/v1/loans/?{query}")
    # Then 400 names the filter
    assert response.status_code == 400
    assert _fields(response) == [field]


def test_the_widest_dpd_filters_answer(agent, loan):
    assert agent.get("/api/v1/loans/?dpd_min=36500").json()["count"] == 0
    assert agent.get("/api/v1/loans/?dpd_max=36500").json()["count"] == 1


@pytest.mark.parametrize(
    "url",
    ["/api/v1/loans/?limit={n}&offset={n}", "/api/v1/loans/{id}/journal/?limit={n}&offset={n}"],
)
def test_servicing_lists_refuse_a_limit_past_the_schema(agent, loan, url):
    response = agent.get(url.format(n=HUGE, id=loan.pk))
    assert response.status_code == 400
    assert {"limit", "offset"} & set(response.json()["extra"]["fields"])


def test_cob_runs_refuse_a_limit_past_the_schema(staff_api_client, admin_user):
    response = staff_api_client(admin_user).get(f"/api/v1/cob-runs/?limit={HUGE}")
    assert response.status_code == 400
    assert "limit" in response.json()["extra"]["fields"]


def test_money_above_money_max_is_400(agent, loan, business_date):
    # Given the loan on its first due date
    business_date(date(2026, 2, 1))
    too_much = str(MONEY_MAX + 1)

    # When staff post, charge or waive more than any amount may be
    payment = agent.post(
        f"/api/v1/loans/{loan.pk}/payments/",
        {"amount": too_much, "method": "wire", "allow_credit": True},
        format="json",
        HTTP_IDEMPOTENCY_KEY="p-1",
    )
    fee = agent.post(
        f"/api/v1/loans/{loan.pk}/fees/", {"amount": "1e30", "reason": "x"}, format="json"
    )

    # Then each names the amount and nothing is written
    assert payment.status_code == fee.status_code == 400
    assert _fields(payment) == _fields(fee) == ["amount"]
    assert payment.json()["extra"]["fields"]["amount"] == ["Must be at most 999,999,999.99."]
    assert not Payment.objects.exists()
    assert not Fee.objects.exists()


def test_the_schema_shows_the_bounds(agent):
    schema = agent.get("/api/schema/", {"format": "json"}).json()
    loans = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/loans/"]["get"]["parameters"]}
    assert loans["dpd_min"]["maximum"] == loans["dpd_max"]["maximum"] == 36500
    assert loans["borrower"]["maximum"] == 2**63 - 1
    assert loans["limit"]["maximum"] == MAX_LIMIT
    journal = schema["paths"]["/api/v1/loans/{loan_id}/journal/"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in journal}["limit"]["maximum"] == MAX_LIMIT
    runs = schema["paths"]["/api/v1/cob-runs/"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in runs}["limit"]["maximum"] == MAX_LIMIT
    inputs = schema["components"]["schemas"]
    for name in ("PaymentCreateInputRequest", "LoanFeesInputRequest", "FeeWaiveInputRequest"):
        assert inputs[name]["properties"]["amount"]["maximum"] == float(MONEY_MAX)
