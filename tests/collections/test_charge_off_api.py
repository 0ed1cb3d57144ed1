"""The charge-off workflow over the API and the placement download."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from collections_app.models import ChargeOffRecommendation, CollectionCase
from servicing.ledger import ledger_problems
from servicing.models import ChargeOff, Loan

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 1)


@pytest.fixture
def case(board):
    loan = board("api-co")
    return CollectionCase.objects.create(
        loan=loan, opened_on=ON, bucket="120+", dpd=120, reviewed_on=ON
    )


def _post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_recommend_then_approve_over_the_api(case, staff_api_client, collector, manager, client):
    collector_api = staff_api_client(collector)
    url = f"/api/v1/collections/cases/{case.pk}/recommend-charge-off/"

    # 400 names the field; 201 once; the retry replays; a second recommendation is 409
    assert _post(collector_api, url, {}, "bad").status_code == 400
    created = _post(collector_api, url, {"reason": "no contact in 90 days"}, "r1")
    assert created.status_code == 201, created.content
    assert _post(collector_api, url, {"reason": "no contact in 90 days"}, "r1").json() == (
        created.json()
    )
    assert _post(collector_api, url, {"reason": "again"}, "r2").status_code == 409
    rec_id = created.json()["id"]
    assert created.json()["status"] == "pending"

    # the collector may not approve (no approve_charge_off): 403
    approve = f"/api/v1/charge-off-recommendations/{rec_id}/approve/"
    assert _post(collector_api, approve, {}, "a0").status_code == 403

    # the manager approves: servicing posts the charge-off
    decided = _post(staff_api_client(manager), approve, {"reason": "agreed"}, "a1")
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert body["status"] == "approved"
    assert float(body["charged_off"]) > 0
    assert Loan.objects.get(pk=case.loan_id).status == "charged_off"
    assert ChargeOff.objects.get(pk=body["charge_off_id"]).decided_by_id == manager.pk
    assert not ledger_problems()

    listed = staff_api_client(collector).get("/api/v1/charge-off-recommendations/?status=approved")
    assert [r["id"] for r in listed.json()["results"]] == [rec_id]

    # the placement file, downloaded by the manager from the workouts page
    client.force_login(manager)
    page = client.get("/staff/collections/workouts/")
    assert page.status_code == 200
    download = client.post(
        "/staff/collections/workouts/placement/",
        {"agency": "Acme Recovery", "recommendations": [rec_id]},
    )
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [r["case_id"] for r in rows] == [str(case.pk)]
    assert ChargeOffRecommendation.objects.get().agency == "Acme Recovery"
    assert client.post("/staff/collections/workouts/placement/", {"agency": ""}).status_code == 400


def test_self_approval_over_the_api_is_409(case, staff_api_client, manager):
    manager_api = staff_api_client(manager)
    rec = _post(
        manager_api,
        f"/api/v1/collections/cases/{case.pk}/recommend-charge-off/",
        {"reason": "gone"},
        "r",
    ).json()
    response = _post(
        manager_api, f"/api/v1/charge-off-recommendations/{rec['id']}/approve/", {}, "a"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "four_eyes_required"
    assert Loan.objects.get(pk=case.loan_id).status == "active"


def test_a_servicing_agent_and_a_borrower_cannot_recommend(
    case, staff_api_client, servicing_agent, api_client, borrower
):
    url = f"/api/v1/collections/cases/{case.pk}/recommend-charge-off/"
    assert _post(staff_api_client(servicing_agent), url, {"reason": "x"}, "s").status_code == 403
    api_client.force_authenticate(borrower.user)
    assert _post(api_client, url, {"reason": "x"}, "b").status_code == 403
    assert not ChargeOffRecommendation.objects.exists()
