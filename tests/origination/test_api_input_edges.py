"""Inputs found by fuzzing the origination API (schemathesis) that answered 500: each is now a
400 naming what is wrong, or an answer, and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from origination.models import Application, RuleSet

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = "99999999999999999999"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == "invalid"
    return body["extra"]["fields"]


@pytest.mark.parametrize("field", ["applicant", "product"])
@pytest.mark.parametrize("value", [BEYOND_64_BITS, "-9223372036854775809"])
def test_application_list_filter_by_an_id_beyond_64_bits_is_400(loan_officer, field, value):
    # When applications are filtered by an id no database integer holds
    response = client_for(loan_officer).get("/api/v1/applications/", {field: value})
    # Then the answer names the filter (it was an OverflowError in the driver)
    assert list(fields_of(response)) == [field]


def test_application_list_filter_by_a_missing_id_is_empty(loan_officer, product):
    # When applications are filtered by an id that is in range but matches nothing
    response = client_for(loan_officer).get("/api/v1/applications/", {"product": "999999"})
    # Then the page is empty
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_rule_set_list_filter_by_an_id_beyond_64_bits_is_400(underwriter):
    # When rule sets are filtered by a product id no database integer holds
    response = client_for(underwriter).get("/api/v1/rule-sets/", {"product": BEYOND_64_BITS})
    # Then the answer names product
    assert list(fields_of(response)) == ["product"]


def test_rule_set_list_filter_by_product(underwriter, product):
    # Given the product's rule sets
    expected = set(RuleSet.objects.filter(product=product).values_list("pk", flat=True))
    assert expected
    # When rule sets are filtered by that product, then those are listed
    response = client_for(underwriter).get("/api/v1/rule-sets/", {"product": product.pk})
    assert response.status_code == 200
    assert {r["id"] for r in response.json()} == expected


def test_disburse_with_a_json_list_body_is_400_and_disburses_nothing(loan_officer, accepted):
    # Given an application whose offer is accepted
    application = accepted()
    # When a disbursement is posted with a JSON list instead of an object
    response = client_for(loan_officer).post(
        f"/api/v1/applications/{application.pk}/disburse/",
        [None, None],
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    # Then it is a 400 saying what the body should be, and nothing is disbursed
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "Invalid data. Expected a dictionary, but got list."
    assert Application.objects.get(pk=application.pk).status == Application.Status.OFFER_ACCEPTED
