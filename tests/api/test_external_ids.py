"""Integrators' own ids (issue 12): applicants, applications and loans take an `external_id`,
unique per type and per integrator, filterable, and readable at
`/api/v1/<type>/external-id/{external_id}/`."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from lendcore.core.models import AuditEvent
from origination.demo import personal_product_ensure
from origination.models import Applicant, Application
from servicing.models import Loan
from tests.origination.test_api_flow import APPLICANT
from tests.servicing.conftest import business_date as business_date  # a fixture
from tests.servicing.factories import LoanFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _applicant(client, external_id, **changes):
    body = dict(APPLICANT, external_id=external_id, **changes)
    return client.post("/api/v1/applicants/", body, format="json")


def test_an_applicant_is_read_back_by_its_external_id(loan_officer):
    client = _client(loan_officer)
    created = _applicant(client, "crm-001")
    assert created.status_code == 201, created.json()
    assert created.json()["external_id"] == "crm-001"
    found = client.get("/api/v1/applicants/external-id/crm-001/")
    assert found.status_code == 200
    assert found.json() == client.get(f"/api/v1/applicants/{created.json()['id']}/").json()
    assert client.get("/api/v1/applicants/external-id/crm-999/").status_code == 404


def test_an_id_is_unique_per_integrator_not_across_them(loan_officer, admin_user):
    assert _applicant(_client(loan_officer), "crm-001").status_code == 201
    again = _applicant(_client(loan_officer), "crm-001", first_name="Other")
    assert again.status_code == 409
    assert again.json()["code"] == "external_id_taken"
    assert "external_id" in again.json()["extra"]["fields"]
    assert Applicant.objects.count() == 1
    # another integrator has its own namespace
    theirs = _applicant(_client(admin_user), "crm-001")
    assert theirs.status_code == 201
    # each reads its own
    mine = _client(loan_officer).get("/api/v1/applicants/external-id/crm-001/").json()
    assert mine["id"] != theirs.json()["id"]
    assert (
        _client(admin_user).get("/api/v1/applicants/external-id/crm-001/").json()["id"]
        == (theirs.json()["id"])
    )


@pytest.mark.parametrize("bad", ["", " x", "a b", "a/b", "-lead", "x" * 101, 7])
def test_a_malformed_external_id_is_400_naming_it(loan_officer, bad):
    response = _applicant(_client(loan_officer), bad)
    assert response.status_code == 400
    assert "external_id" in response.json()["extra"]["fields"]
    assert not Applicant.objects.exists()


def test_an_application_by_external_id_and_the_list_filter(borrower):
    product = personal_product_ensure()
    client = _client(borrower.user)
    applicant = _applicant(client, None).json()
    body = {
        "applicant": applicant["id"],
        "product": product.pk,
        "amount": "5000.00",
        "term": 24,
        "frequency": "monthly",
        "external_id": "lead:42",
    }
    created = client.post("/api/v1/applications/", body, format="json")
    assert created.status_code == 201, created.json()
    # the same id with the same terms is the same application (a retry), other terms a 409
    assert (
        client.post("/api/v1/applications/", body, format="json").json()["id"]
        == (created.json()["id"])
    )
    other = client.post("/api/v1/applications/", dict(body, amount="6000.00"), format="json")
    assert other.status_code == 409
    assert Application.objects.count() == 1

    found = client.get("/api/v1/applications/external-id/lead:42/")
    assert found.status_code == 200
    assert found.json()["id"] == created.json()["id"]
    listed = client.get("/api/v1/applications/", {"external_id": "lead:42"}).json()
    assert [a["id"] for a in listed["results"]] == [created.json()["id"]]
    assert client.get("/api/v1/applications/", {"external_id": "lead:43"}).json()["count"] == 0
    assert client.get("/api/v1/applications/", {"external_id": "a b"}).status_code == 400


def test_a_loan_is_named_read_filtered_and_cleared(
    servicing_agent, borrower, other_borrower, business_date
):
    loan, second = LoanFactory(borrower=borrower), LoanFactory(borrower=borrower)
    agent = _client(servicing_agent)
    named = agent.put(
        f"/api/v1/loans/{loan.pk}/external-id/", {"external_id": "core-7"}, format="json"
    )
    assert named.status_code == 200, named.json()
    assert named.json()["external_id"] == "core-7"
    assert AuditEvent.objects.filter(action="external_id_set", object_id=str(loan.pk)).exists()

    assert agent.get("/api/v1/loans/external-id/core-7/").json()["id"] == loan.pk
    listed = agent.get("/api/v1/loans/", {"external_id": "core-7"}).json()
    assert [row["id"] for row in listed["results"]] == [loan.pk]
    # the borrower sees their loan by the id; another borrower does not
    assert _client(borrower.user).get("/api/v1/loans/external-id/core-7/").status_code == 200
    assert _client(other_borrower.user).get("/api/v1/loans/external-id/core-7/").status_code == (
        404
    )

    taken = agent.put(
        f"/api/v1/loans/{second.pk}/external-id/", {"external_id": "core-7"}, format="json"
    )
    assert taken.status_code == 409
    assert Loan.objects.get(pk=second.pk).external_id is None

    # a borrower may not name loans
    refused = _client(borrower.user).put(
        f"/api/v1/loans/{second.pk}/external-id/", {"external_id": "mine"}, format="json"
    )
    assert refused.status_code == 403

    cleared = agent.put(
        f"/api/v1/loans/{loan.pk}/external-id/", {"external_id": None}, format="json"
    )
    assert cleared.json()["external_id"] is None
    assert agent.get("/api/v1/loans/external-id/core-7/").status_code == 404
    assert agent.put(f"/api/v1/loans/{loan.pk}/external-id/", {}, format="json").status_code == 400
