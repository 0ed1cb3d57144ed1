"""Integrators' own ids (issue 12): applicants, applications, loans, payments and
collection cases take an `external_id`,
unique per type and per integrator, filterable, and readable at
`/api/v1/<type>/external-id/{external_id}/`."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from collections_app.models import CollectionCase
from lendcore.core.models import AuditEvent
from origination.demo import personal_product_ensure
from origination.models import Applicant, Application
from servicing.models import Loan, Payment
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


# --------------------------------------------------------------------------- payments


def _pay(client, loan, key, **changes):
    body = {"amount": "25.00", "method": "ach", **changes}
    return client.post(
        f"/api/v1/loans/{loan.pk}/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_payment_is_posted_with_an_id_read_back_and_filtered(
    servicing_agent, borrower, other_borrower, business_date
):
    loan = LoanFactory(borrower=borrower)
    agent = _client(servicing_agent)
    posted = _pay(agent, loan, "k1", external_id="bank:tx-1")
    assert posted.status_code == 201, posted.json()
    assert posted.json()["external_id"] == "bank:tx-1"
    payment = Payment.objects.get(pk=posted.json()["id"])
    assert (payment.external_id, payment.external_id_owner_id) == ("bank:tx-1", servicing_agent.pk)
    # a retry with the same key is the same payment (the idempotency replay)
    assert _pay(agent, loan, "k1", external_id="bank:tx-1").json()["id"] == payment.pk
    # one without an id
    assert _pay(agent, loan, "k2").json()["external_id"] is None

    found = agent.get("/api/v1/payments/external-id/bank:tx-1/")
    assert found.status_code == 200
    assert found.json() == posted.json()
    assert agent.get("/api/v1/payments/external-id/bank:tx-2/").status_code == 404
    # the loan's borrower sees it; another borrower does not
    assert _client(borrower.user).get("/api/v1/payments/external-id/bank:tx-1/").status_code == (
        200
    )
    assert (
        _client(other_borrower.user).get("/api/v1/payments/external-id/bank:tx-1/").status_code
        == 404
    )

    listed = agent.get(f"/api/v1/loans/{loan.pk}/payments/", {"external_id": "bank:tx-1"})
    assert [row["id"] for row in listed.json()["results"]] == [payment.pk]
    assert len(agent.get(f"/api/v1/loans/{loan.pk}/payments/").json()["results"]) == 2
    too_long = agent.get(f"/api/v1/loans/{loan.pk}/payments/", {"external_id": "x" * 101})
    assert too_long.status_code == 400
    assert "external_id" in too_long.json()["extra"]["fields"]


def test_a_payment_id_taken_is_409_and_nothing_posts(
    servicing_agent, collector, borrower, business_date
):
    loan, other = LoanFactory(borrower=borrower), LoanFactory(borrower=borrower)
    agent = _client(servicing_agent)
    assert _pay(agent, loan, "k1", external_id="tx-1").status_code == 201
    # the same id on another payment (even of another loan) is refused, naming the field
    again = _pay(agent, other, "k2", external_id="tx-1")
    assert again.status_code == 409
    assert again.json()["code"] == "external_id_taken"
    assert "external_id" in again.json()["extra"]["fields"]
    assert not Payment.objects.filter(loan=other).exists()
    # a malformed one is a 400 naming it
    bad = _pay(agent, other, "k3", external_id="a b")
    assert bad.status_code == 400
    assert "external_id" in bad.json()["extra"]["fields"]
    # a borrower's rail payment takes none
    refused = _pay(
        _client(borrower.user),
        loan,
        "k4",
        external_id="mine",
        account_number="123456789",
        routing_number="011000015",
    )
    assert refused.status_code == 400
    assert "external_id" in refused.json()["extra"]["fields"]


def test_the_payment_constraint_holds_when_the_check_is_passed(
    servicing_agent, borrower, business_date, monkeypatch
):
    """Two requests at once both pass the check: the unique constraint refuses the second,
    and it is the same 409 (not a 500)."""
    from servicing.services import payments as payment_services

    loan = LoanFactory(borrower=borrower)
    agent = _client(servicing_agent)
    assert _pay(agent, loan, "k1", external_id="tx-1").status_code == 201
    calls = []

    def check_once_passing(model, *, owner, external_id, instance=None):
        calls.append(external_id)
        if len(calls) > 1:  # the guard's check after the constraint refused the insert
            return original(model, owner=owner, external_id=external_id, instance=instance)

    original = payment_services.external_id_check
    monkeypatch.setattr(payment_services, "external_id_check", check_once_passing)
    monkeypatch.setattr("lendcore.core.external_ids.external_id_check", check_once_passing)
    again = _pay(agent, loan, "k2", external_id="tx-1")
    assert again.status_code == 409, again.json()
    assert again.json()["code"] == "external_id_taken"
    assert Payment.objects.filter(loan=loan).count() == 1


# --------------------------------------------------------------------------- collection cases


def _case(loan) -> CollectionCase:
    return CollectionCase.objects.create(
        loan=loan, opened_on=loan.disbursed_on, bucket="1-29", reviewed_on=loan.disbursed_on
    )


def test_a_case_is_named_read_filtered_and_cleared(
    collector, servicing_agent, borrower, business_date
):
    case, second = _case(LoanFactory(borrower=borrower)), _case(LoanFactory(borrower=borrower))
    client = _client(collector)
    named = client.put(
        f"/api/v1/collections/cases/{case.pk}/external-id/",
        {"external_id": "agency:77"},
        format="json",
    )
    assert named.status_code == 200, named.json()
    assert named.json()["external_id"] == "agency:77"
    assert AuditEvent.objects.filter(action="external_id_set", object_id=str(case.pk)).exists()

    found = client.get("/api/v1/collections/cases/external-id/agency:77/")
    assert found.status_code == 200
    assert found.json() == client.get(f"/api/v1/collections/cases/{case.pk}/").json()
    listed = client.get("/api/v1/collections/cases/", {"external_id": "agency:77"}).json()
    assert [row["id"] for row in listed["results"]] == [case.pk]
    assert client.get("/api/v1/collections/cases/", {"external_id": "x" * 101}).status_code == 400

    taken = client.put(
        f"/api/v1/collections/cases/{second.pk}/external-id/",
        {"external_id": "agency:77"},
        format="json",
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "external_id_taken"
    assert "external_id" in taken.json()["extra"]["fields"]
    assert CollectionCase.objects.get(pk=second.pk).external_id is None

    # staff without work_collections, and borrowers, may not name or read cases
    for user in (servicing_agent, borrower.user):
        assert (
            _client(user)
            .put(f"/api/v1/collections/cases/{second.pk}/external-id/", {"external_id": "x"})
            .status_code
            == 403
        )
        assert _client(user).get(
            "/api/v1/collections/cases/external-id/agency:77/"
        ).status_code == (403)

    cleared = client.put(
        f"/api/v1/collections/cases/{case.pk}/external-id/", {"external_id": None}, format="json"
    )
    assert cleared.json()["external_id"] is None
    assert client.get("/api/v1/collections/cases/external-id/agency:77/").status_code == 404
    empty = client.put(f"/api/v1/collections/cases/{case.pk}/external-id/", {}, format="json")
    assert empty.status_code == 400


def test_the_case_constraint_is_per_owner(collector, borrower, business_date):
    """The database refuses a second case with the same id of the same integrator (the
    constraint behind the check), and allows it for another."""
    from django.db import IntegrityError, transaction

    case, second = _case(LoanFactory(borrower=borrower)), _case(LoanFactory(borrower=borrower))
    CollectionCase.objects.filter(pk=case.pk).update(external_id="c-1", external_id_owner=collector)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionCase.objects.filter(pk=second.pk).update(
            external_id="c-1", external_id_owner=collector
        )
    CollectionCase.objects.filter(pk=second.pk).update(
        external_id="c-1", external_id_owner=borrower.user
    )


# --------------------------------------------------------------------------- races (PostgreSQL)


def _at_once(*requests):
    """Run the requests (callables) in threads started together; their answers."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    barrier = threading.Barrier(len(requests))

    def run(request):
        try:
            barrier.wait(timeout=30)
            response = request()
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return [f.result() for f in [pool.submit(run, r) for r in requests]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_payments_racing_for_one_id_post_once(servicing_agent, borrower, business_date):
    loans = [LoanFactory(borrower=borrower), LoanFactory(borrower=borrower)]
    results = _at_once(
        *[
            lambda loan=loan, i=i: _pay(_client(servicing_agent), loan, f"k{i}", external_id="tx")
            for i, loan in enumerate(loans)
        ]
    )
    assert sorted(status for status, _ in results) == [201, 409], results
    [conflict] = [body for status, body in results if status == 409]
    assert conflict["code"] == "external_id_taken"
    assert Payment.objects.filter(external_id="tx").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cases_racing_for_one_id_get_it_once(collector, borrower, business_date):
    cases = [_case(LoanFactory(borrower=borrower)), _case(LoanFactory(borrower=borrower))]
    results = _at_once(
        *[
            lambda case=case: _client(collector).put(
                f"/api/v1/collections/cases/{case.pk}/external-id/",
                {"external_id": "agency:1"},
                format="json",
            )
            for case in cases
        ]
    )
    assert sorted(status for status, _ in results) == [200, 409], results
    assert CollectionCase.objects.filter(external_id="agency:1").count() == 1
