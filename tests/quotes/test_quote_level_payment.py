"""A quote's level payment is solved against the schedule's actual days, whatever the basis:
the last installment is within 1 % of the others (issue: money you can trust, defect 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

URL = reverse("api:quotes")

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day_count", ["ACT/360", "ACT/365F", "30/360", "ACT/ACT-ISDA"])
@pytest.mark.parametrize(
    ("principal", "rate", "term"),
    [("300000.00", "7", 360), ("25000.00", "12", 60)],
    ids=["7%-360", "12%-60"],
)
def test_the_last_installment_is_within_one_percent_of_the_payment(
    api_client, day_count, principal, rate, term
):
    # Given a quote on an actual-day basis (or 30/360)
    body = {
        "principal": principal,
        "annual_rate": rate,
        "term": term,
        "frequency": "monthly",
        "day_count": day_count,
        "disbursement_date": "2026-12-01",
    }
    # When quoted
    response = api_client.post(URL, body, format="json")
    # Then the last installment is level with the others, and none is 0.00
    assert response.status_code == 200, response.content
    data = response.json()
    payment = Decimal(data["payment"])
    installments = [Decimal(row["payment"]) for row in data["installments"]]
    assert len(installments) == term
    assert abs(installments[-1] - payment) <= payment / 100
    assert min(installments) > 0
    assert all(amount == payment for amount in installments[:-1])
