"""POST/GET /api/v1/cob-runs/ and the staff page: admins only, 409s, progress, history."""

from __future__ import annotations

from datetime import date

import pytest

from servicing.models import CobRun
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_loan(borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    return board_loan(borrower=borrower)


def test_admin_starts_lists_and_reads_runs(one_loan, admin_user, staff_api_client):
    client = staff_api_client(admin_user)
    response = client.post("/api/v1/cob-runs/", {"business_date": "2026-01-01"}, format="json")
    assert response.status_code == 202, response.json()
    run = response.json()
    assert run["status"] == "succeeded"
    assert run["loans_done"] == 1
    assert client.get("/api/v1/business-date/").json()["business_date"] == "2026-01-02"
    listed = client.get("/api/v1/cob-runs/").json()
    assert [r["id"] for r in listed["results"]] == [run["id"]]
    detail = client.get(f"/api/v1/cob-runs/{run['id']}/").json()
    assert detail["steps"]["accrual"]["count"] == 0  # disbursed today: nothing to accrue
    assert detail["partitions"][0]["status"] == "done"
    assert detail["failures"] == []
    assert client.get("/api/v1/cob-runs/999999/").status_code == 404


def test_closed_date_and_other_dates_are_409(one_loan, admin_user, staff_api_client):
    client = staff_api_client(admin_user)
    assert client.post("/api/v1/cob-runs/", {}, format="json").status_code == 202
    again = client.post("/api/v1/cob-runs/", {"business_date": "2026-01-01"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "cob_already_closed"
    later = client.post("/api/v1/cob-runs/", {"business_date": "2026-02-01"}, format="json")
    assert later.status_code == 409
    bad = client.post("/api/v1/cob-runs/", {"business_date": "nope"}, format="json")
    assert bad.status_code == 400


def test_a_second_start_while_one_runs_is_409(one_loan, admin_user, staff_api_client):
    from django.utils import timezone

    CobRun.objects.create(business_date=date(2026, 1, 1), started_at=timezone.now())
    response = staff_api_client(admin_user).post("/api/v1/cob-runs/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "cob_run_conflict"


def test_only_admins(one_loan, servicing_agent, staff_api_client, borrower, api_client):
    client = staff_api_client(servicing_agent)
    assert client.post("/api/v1/cob-runs/", {}, format="json").status_code == 403
    assert client.get("/api/v1/cob-runs/").status_code == 403


def test_staff_page_runs_and_shows_history(one_loan, admin_user, servicing_agent, client):
    client.force_login(servicing_agent)
    assert client.get("/staff/cob/").status_code == 403
    client.force_login(admin_user)
    page = client.get("/staff/cob/")
    assert page.status_code == 200
    assert b"No close of business has run yet" in page.content
    response = client.post("/staff/cob/run/", follow=True)
    assert b"Close of business for 2026-01-01 finished" in response.content
    assert b"Accrual" in response.content
    assert b"2026-01-02" in response.content
    assert client.get("/staff/cob/progress/").status_code == 200
