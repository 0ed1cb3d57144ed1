"""Requests the API fuzzing (schemathesis) answered with a 500: each now gets its 4xx and
changes nothing (issue: money you can trust, defect 16, and the servicing round of the
fuzzing that followed)."""

from __future__ import annotations

from datetime import date

import pytest

from servicing.models import Payment, RailTransfer

from .factories import board_loan

HUGE = "276724557752405705359360"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("dpd_min=1000000", 400),
        ("dpd_max=99999999999999999999", 400),
        ("limit=99999999999999999999", 400),  # past the schema's 500
    ],
)
def test_loan_list_with_huge_numbers_is_not_a_500(
    staff_api_client, servicing_agent, loan, query, status
):
    response = staff_api_client(servicing_agent).get(f"/api/v1/loans/?{query}")
    assert response.status_code == status
    if status == 400:
        assert query.split("=")[0] in response.json()["extra"]["fields"]
    else:
        assert response.json()["count"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/v1/loans/{HUGE}/"),
        ("get", f"/api/v1/loans/{HUGE}/schedule/"),
        ("post", f"/api/v1/loans/{HUGE}/payments/"),
        ("post", f"/api/v1/payments/{HUGE}/reverse/"),
        ("get", f"/staff/loans/{HUGE}/"),
    ],
)
def test_an_id_beyond_a_bigint_is_404(staff_api_client, servicing_agent, method, path):
    client = staff_api_client(servicing_agent)
    body = {"amount": "10.00", "method": "cash", "reason": "x"}
    response = getattr(client, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 404


def test_an_account_number_that_is_not_text_is_400(api_client, borrower, business_date):
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 2, 1))
    api_client.force_authenticate(borrower.user)
    body = {"amount": "10.00", "method": "ach", "account_number": [None, None]}
    response = api_client.post(
        f"/api/v1/loans/{loan.pk}/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 400
    assert "account_number" in response.json()["extra"]["fields"]
    assert not RailTransfer.objects.exists()
    assert not Payment.objects.exists()


def test_the_business_date_moves_at_most_three_years_at_once(
    staff_api_client, admin_user, business_date
):
    admin = staff_api_client(admin_user)
    far = admin.put("/api/v1/business-date/", {"business_date": "2579-09-18"}, format="json")
    assert far.status_code == 400
    assert "business_date" in far.json()["extra"]["fields"]
    assert admin.get("/api/v1/business-date/").json() == {"business_date": "2026-01-01"}
