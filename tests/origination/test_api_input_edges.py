"""Inputs found by fuzzing the origination API (schemathesis) that answered 500: each is now a
400 naming what is wrong, or an answer, and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from origination.models import Application, LoanProduct, RuleSet

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


def test_rule_set_list_filter_by_an_id_beyond_64_bits_is_400(admin_user):
    # When rule sets are filtered by a product id no database integer holds
    response = client_for(admin_user).get("/api/v1/rule-sets/", {"product": BEYOND_64_BITS})
    # Then the answer names product
    assert list(fields_of(response)) == ["product"]


def test_rule_set_list_filter_by_product(admin_user, product):
    # Given the product's rule sets
    expected = set(RuleSet.objects.filter(product=product).values_list("pk", flat=True))
    assert expected
    # When rule sets are filtered by that product, then those are listed
    response = client_for(admin_user).get("/api/v1/rule-sets/", {"product": product.pk})
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


@pytest.mark.parametrize("threshold", ["NaN", "sNaN", "Infinity", "-inf"])
def test_rule_with_a_threshold_that_is_not_a_finite_number_is_400(admin_user, product, threshold):
    # Given the product's rule sets
    before = RuleSet.objects.count()
    rule = {
        "feature": "score",
        "operator": "lt",
        "threshold": threshold,
        "outcome": "decline",
        "reason_code": "SCORE",
        "reason_text": "Score too low",
    }
    # When a rule set compares the score with NaN or an infinity (a backtest was a 500:
    # Decimal refuses to order NaN, and every decision would have failed the same way)
    response = client_for(admin_user).post(
        "/api/v1/rule-sets/", {"product": product.pk, "rules": [rule]}, format="json"
    )
    # Then the answer names the rules, and no rule set is added
    assert fields_of(response) == {"rules": [f"Rule 1 threshold: {threshold!r} is not a number."]}
    assert RuleSet.objects.count() == before


PRODUCT = {
    "code": "EDGE",
    "name": "Edge",
    "min_amount": "1000.00",
    "max_amount": "20000.00",
    "min_term": 12,
    "max_term": 72,
    "frequencies": ["monthly"],
    "base_rate": "6.5",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # each of these was a 500 at creation (a TypeError in the terms check)
        ({"frequencies": [["monthly"]]}, "frequencies"),
        ({"frequencies": [{}]}, "frequencies"),
        ({"frequencies": 5}, "frequencies"),
        ({"required_document_types": 5}, "required_document_types"),
        # these were stored and failed only when used: boarding (tuple(5) is a TypeError),
        # every quote of the product (a rounding of 0, a rate above 100)
        ({"allocation_order": 5}, "allocation_order"),
        ({"allocation_order": ["principal", "fees"]}, "allocation_order"),
        ({"payment_rounding": "0"}, "payment_rounding"),
        ({"base_rate": "9999.9999"}, "base_rate"),
        ({"pricing_tiers": {"min_score": 300}}, "pricing_tiers"),
        (
            {"pricing_tiers": [{"min_score": 1, "max_score": 2, "rate": "NaN", "max_amount": "1"}]},
            "pricing_tiers",
        ),
        (
            {"pricing_tiers": [{"min_score": 1, "max_score": 2, "rate": "101", "max_amount": "1"}]},
            "pricing_tiers",
        ),
    ],
)
def test_product_terms_of_the_wrong_shape_are_400_and_create_nothing(admin_user, change, field):
    # When an admin creates a product with one term of the wrong type or out of range
    response = client_for(admin_user).post(
        "/api/v1/products/", {**PRODUCT, **change}, format="json"
    )
    # Then the answer names that term, and no product exists
    assert list(fields_of(response)) == [field]
    assert not LoanProduct.objects.filter(code="EDGE").exists()


def test_product_terms_of_the_right_shape_are_accepted(admin_user):
    # When an admin creates a product with every JSON term given
    body = {
        **PRODUCT,
        "frequencies": ["monthly", "biweekly"],
        "required_document_types": ["id_proof"],
        "allocation_order": ["interest", "fees", "principal"],
        "payment_rounding": "1.00",
        "pricing_tiers": [
            {"min_score": 300, "max_score": 850, "rate": "9.9", "max_amount": "5000"}
        ],
    }
    response = client_for(admin_user).post("/api/v1/products/", body, format="json")
    # Then it is created with them
    assert response.status_code == 201, response.content
    assert response.json()["allocation_order"] == ["interest", "fees", "principal"]
