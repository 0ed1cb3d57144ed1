"""Hardship plans over the API (who may, idempotency, 400/409) and in the portal (the overdue
banner, the request form), and the staff pages that decide them."""

from __future__ import annotations

from datetime import date

import pytest

from collections_app.models import CaseEvent, ChargeOffRecommendation, HardshipPlan
from servicing.models import Loan
from servicing.services import business_date_set

pytestmark = pytest.mark.django_db

LATE = date(2026, 3, 1)  # 15 days after the first due date (2026-02-14), nothing paid


def _post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _ask(client, loan, key="k1", **body):
    payload = {"kind": "deferral", "months": 2, "reason": "reduced hours"} | body
    return _post(client, f"/api/v1/loans/{loan.pk}/hardship-plans/", payload, key)


def test_a_collector_asks_and_a_manager_approves_over_the_api(
    board, staff_api_client, collector, manager
):
    # Given a loan 15 days late
    loan = board("api")
    business_date_set(business_date=LATE, acting_user=None)
    collector_api = staff_api_client(collector)

    # When a collector asks for a plan (and retries with the same key)
    first = _ask(collector_api, loan)
    again = _ask(collector_api, loan)

    # Then one plan, requested; the retry answers the same
    assert first.status_code == 201, first.content
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert HardshipPlan.objects.count() == 1
    plan_id = first.json()["id"]
    assert first.json()["status"] == "requested"
    assert first.json()["channel"] == "api"

    # The collector may not decide it; the manager approves it
    assert (
        _post(collector_api, f"/api/v1/hardship-plans/{plan_id}/approve/", {}, "a").status_code
        == 403
    )
    manager_api = staff_api_client(manager)
    approved = _post(manager_api, f"/api/v1/hardship-plans/{plan_id}/approve/", {}, "a1")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "active"
    loan = Loan.objects.get(pk=loan.pk)
    assert (loan.dpd, loan.delinquency_bucket, loan.in_hardship) == (0, "current", True)

    # Lists
    listed = manager_api.get("/api/v1/hardship-plans/?status=active")
    assert [row["id"] for row in listed.json()["results"]] == [plan_id]
    assert manager_api.get("/api/v1/hardship-plans/?status=nope").status_code == 400
    on_loan = collector_api.get(f"/api/v1/loans/{loan.pk}/hardship-plans/")
    assert on_loan.json()["count"] == 1

    # A second decision is 409
    again = _post(manager_api, f"/api/v1/hardship-plans/{plan_id}/reject/", {}, "r1")
    assert again.status_code == 409


def test_self_approval_over_the_api_is_409(board, staff_api_client, admin_user):
    loan = board("self")
    admin = staff_api_client(admin_user)
    plan_id = _ask(admin, loan).json()["id"]
    response = _post(admin, f"/api/v1/hardship-plans/{plan_id}/approve/", {}, "a")
    assert response.status_code == 409
    assert response.json()["code"] == "four_eyes_required"
    assert HardshipPlan.objects.get().status == "requested"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "holiday"}, "kind"),
        ({"months": 0}, "months"),
        ({"months": 13}, "months"),
        ({"reason": ""}, "reason"),
    ],
)
def test_bad_input_is_400_naming_the_field(board, staff_api_client, collector, body, field):
    loan = board("bad")
    response = _ask(staff_api_client(collector), loan, **body)
    assert response.status_code == 400
    assert field in str(response.json())
    assert not HardshipPlan.objects.exists()


def test_the_api_wants_an_idempotency_key(board, staff_api_client, collector):
    loan = board("key")
    response = staff_api_client(collector).post(
        f"/api/v1/loans/{loan.pk}/hardship-plans/",
        {"kind": "deferral", "months": 2, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert not HardshipPlan.objects.exists()


def test_borrowers_use_the_portal_not_the_api(board, api_client, borrower):
    loan = board("borrower")
    api_client.force_authenticate(borrower.user)
    assert _ask(api_client, loan).status_code == 403
    assert api_client.get("/api/v1/hardship-plans/").status_code == 403
    assert not HardshipPlan.objects.exists()


def test_the_portal_banner_and_hardship_form(board, client, borrower, other_borrower):
    # Given a loan 15 days late
    loan = board("portal")
    business_date_set(business_date=LATE, acting_user=None)
    client.force_login(borrower.user)

    # The loan page and My loans show the banner: amount to cure and a pay button
    page = client.get(f"/my-loans/{loan.pk}/").content.decode()
    assert "15 days past due" in page
    assert "data-amount-to-cure" in page
    assert f"/my-loans/{loan.pk}/pay/" in page
    assert f"/my-loans/{loan.pk}/hardship/" in page
    assert "data-amount-to-cure" in client.get("/my-loans/").content.decode()

    # A bad request names the field and creates nothing
    bad = client.post(f"/my-loans/{loan.pk}/hardship/", {"kind": "deferral", "months": 40})
    assert bad.status_code == 400
    assert "months" in bad.content.decode().lower()
    assert not HardshipPlan.objects.exists()

    # The request creates a requested plan, from the portal, on the case's history
    sent = client.post(
        f"/my-loans/{loan.pk}/hardship/",
        {"kind": "payment_reduction", "months": 3, "reason": "medical bills"},
    )
    assert sent.status_code == 302
    plan = HardshipPlan.objects.get()
    assert (plan.status, plan.channel, plan.requested_by_id) == (
        "requested",
        "portal",
        borrower.user.pk,
    )
    assert CaseEvent.objects.filter(case=plan.case, kind="hardship").exists()
    assert "requested" in client.get(f"/my-loans/{loan.pk}/hardship/").content.decode()

    # Another borrower gets 404
    client.force_login(other_borrower.user)
    assert client.get(f"/my-loans/{loan.pk}/hardship/").status_code == 404


def test_a_current_loan_has_no_banner(board, client, borrower):
    loan = board("current")
    client.force_login(borrower.user)
    assert "data-amount-to-cure" not in client.get(f"/my-loans/{loan.pk}/").content.decode()


def test_the_manager_page_decides_a_borrower_s_plan(board, client, borrower, manager):
    # Given a borrower's request
    loan = board("ui")
    business_date_set(business_date=LATE, acting_user=None)
    client.force_login(borrower.user)
    client.post(
        f"/my-loans/{loan.pk}/hardship/", {"kind": "deferral", "months": 1, "reason": "flood"}
    )
    plan = HardshipPlan.objects.get()

    # When the manager opens the workouts page and approves it
    client.force_login(manager)
    page = client.get("/staff/collections/workouts/")
    assert page.status_code == 200
    assert "flood" in page.content.decode()
    decided = client.post(
        f"/staff/collections/hardship-plans/{plan.pk}/decide/", {"decision": "approve"}
    )

    # Then the plan runs and the loan is current
    assert decided.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active"
    assert Loan.objects.get(pk=loan.pk).dpd == 0

    # The case panels render for the case page
    panels = client.get(f"/staff/collections/cases/{plan.case_id}/workouts/")
    assert panels.status_code == 200
    assert "Hardship plan" in panels.content.decode()
    assert "Active" in panels.content.decode()


def test_the_case_panels_request_and_recommend(board, client, collector, manager):
    loan = board("panels")
    business_date_set(business_date=LATE, acting_user=None)
    client.force_login(collector)
    from collections_app.models import CollectionCase

    case = CollectionCase.objects.create(
        loan=loan, opened_on=LATE, bucket="1-29", dpd=15, reviewed_on=LATE
    )
    base = f"/staff/collections/cases/{case.pk}"
    assert "Request a hardship plan" in client.get(f"{base}/workouts/").content.decode()
    bad = client.post(f"{base}/hardship/", {"kind": "deferral", "months": 2, "reason": ""})
    assert bad.status_code == 400
    ok = client.post(f"{base}/hardship/", {"kind": "deferral", "months": 2, "reason": "ill"})
    assert ok.status_code == 302
    twice = client.post(f"{base}/hardship/", {"kind": "deferral", "months": 2, "reason": "ill"})
    assert twice.status_code == 409
    recommended = client.post(f"{base}/recommend-charge-off/", {"reason": "skip"})
    assert recommended.status_code == 302
    recommendation = ChargeOffRecommendation.objects.get()

    # The collector sees no decision buttons of their own; the manager decides on the page
    page = client.get(f"{base}/workouts/").content.decode()
    assert "Waiting for a manager" in page
    client.force_login(manager)
    decided = client.post(
        f"/staff/collections/charge-off-recommendations/{recommendation.pk}/decide/",
        {"decision": "reject", "reason": "keep working"},
    )
    assert decided.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.status == "rejected"
