"""Money inputs of the origination API stop at MONEY_MAX (999,999,999.99): one cent more is a
400 naming the field and changes nothing; the bound itself passes the field and meets the
business rules (the product's limits) where there are some."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from origination import services
from origination.errors import ValidationFailed
from origination.models import Applicant, Application, LoanProduct, UnderwriterAction
from origination.selectors import product_current_version

from .test_api_flow import APPLICANT

pytestmark = pytest.mark.django_db

ABOVE = "1000000000.00"
AT_BOUND = "999999999.99"
TOO_BIG = "Must be at most 999,999,999.99."


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


PRODUCT = {
    "code": "BIG",
    "name": "Big",
    "min_amount": "1000.00",
    "max_amount": "20000.00",
    "min_term": 12,
    "max_term": 72,
    "frequencies": ["monthly"],
    "base_rate": "6.5",
}


# --- applicants --------------------------------------------------------------------------------


def test_applicant_without_housing_payment_is_created_with_zero(borrower):
    # Given an applicant's details without a housing payment nor other debts
    body = {
        k: v
        for k, v in APPLICANT.items()
        if k not in ("monthly_housing_payment", "monthly_other_debts")
    }
    # When the borrower posts them
    response = client_for(borrower.user).post("/api/v1/applicants/", body, format="json")
    # Then the applicant is created with 0.00 for both
    assert response.status_code == 201, response.content
    assert response.json()["monthly_housing_payment"] == "0.00"
    assert response.json()["monthly_other_debts"] == "0.00"
    applicant = Applicant.objects.get()
    assert applicant.monthly_housing_payment == Decimal("0.00")
    assert applicant.monthly_other_debts == Decimal("0.00")


@pytest.mark.parametrize(
    "field", ["monthly_income", "monthly_housing_payment", "monthly_other_debts"]
)
def test_applicant_amount_above_the_bound_is_400_and_creates_nothing(borrower, field):
    # Given an applicant with one amount a cent above MONEY_MAX
    body = {**APPLICANT, field: ABOVE}
    # When posted
    response = client_for(borrower.user).post("/api/v1/applicants/", body, format="json")
    # Then the answer names that field with the bound, and nothing is stored
    assert fields_of(response) == {field: [TOO_BIG]}
    assert not Applicant.objects.exists()


@pytest.mark.parametrize("value", ["1e30", "99999999999999999999.99", "-1e30"])
def test_applicant_amount_far_out_of_range_is_400_naming_the_field(borrower, value):
    # Given an income written with an exponent or twenty digits
    body = {**APPLICANT, "monthly_income": value}
    # When posted
    response = client_for(borrower.user).post("/api/v1/applicants/", body, format="json")
    # Then it is a 400 on monthly_income, never a 500
    assert set(fields_of(response)) == {"monthly_income"}
    assert not Applicant.objects.exists()


def test_applicant_amounts_at_the_bound_are_accepted(borrower):
    # Given an applicant whose three amounts are exactly MONEY_MAX
    body = {
        **APPLICANT,
        "monthly_income": AT_BOUND,
        "monthly_housing_payment": AT_BOUND,
        "monthly_other_debts": AT_BOUND,
    }
    # When posted
    response = client_for(borrower.user).post("/api/v1/applicants/", body, format="json")
    # Then the applicant is created with them, exactly
    assert response.status_code == 201, response.content
    assert response.json()["monthly_income"] == AT_BOUND
    assert Applicant.objects.get().monthly_other_debts == Decimal(AT_BOUND)


def test_applicant_create_service_refuses_an_amount_above_the_bound(loan_officer):
    # Given the service called directly (not through a bounded input)
    fields = {k: v for k, v in APPLICANT.items() if k != "ssn"}
    fields["date_of_birth"] = date(1985, 4, 2)
    fields["monthly_income"] = Decimal(ABOVE)
    fields["monthly_housing_payment"] = Decimal("0.00")
    fields["monthly_other_debts"] = Decimal("0.00")
    # When it creates the applicant, then it refuses naming the field
    with pytest.raises(ValidationFailed) as raised:
        services.applicant_create(acting_user=loan_officer, ssn="123-45-5555", **fields)
    assert raised.value.extra["fields"] == {"monthly_income": [TOO_BIG]}
    assert not Applicant.objects.exists()


# --- applications ------------------------------------------------------------------------------


def _application_body(applicant_id: int, product_id: int, amount: str) -> dict:
    return {
        "applicant": applicant_id,
        "product": product_id,
        "amount": amount,
        "term": 36,
        "frequency": "monthly",
    }


def test_application_amount_above_the_bound_is_400_and_creates_nothing(
    product, loan_officer, make_applicant
):
    # Given an applicant and an amount a cent above MONEY_MAX
    applicant = make_applicant()
    body = _application_body(applicant.pk, product.pk, ABOVE)
    # When a loan officer posts the application
    response = client_for(loan_officer).post("/api/v1/applications/", body, format="json")
    # Then the answer names amount with the bound, and no application exists
    assert fields_of(response) == {"amount": [TOO_BIG]}
    assert not Application.objects.exists()


def test_application_amount_at_the_bound_meets_the_product_limit(
    product, loan_officer, make_applicant
):
    # Given an amount of exactly MONEY_MAX, above the PERSONAL product's 50,000
    applicant = make_applicant()
    body = _application_body(applicant.pk, product.pk, AT_BOUND)
    # When posted
    response = client_for(loan_officer).post("/api/v1/applications/", body, format="json")
    # Then the field takes it and the product's rule refuses it, naming amount
    assert fields_of(response) == {"amount": ["Must be between 1,000.00 and 50,000.00."]}
    assert not Application.objects.exists()


def test_approval_amount_above_the_bound_is_400_and_changes_nothing(underwriter, decided):
    # Given a referred application
    application = decided("5555")
    assert application.status == Application.Status.REFERRED
    # When an underwriter approves it with a counter-offer a cent above MONEY_MAX
    response = client_for(underwriter).post(
        f"/api/v1/applications/{application.pk}/approve/", {"amount": ABOVE}, format="json"
    )
    # Then the answer names amount with the bound, and the application is unchanged
    assert fields_of(response) == {"amount": [TOO_BIG]}
    assert Application.objects.get(pk=application.pk).status == Application.Status.REFERRED
    assert not UnderwriterAction.objects.exists()


def test_approval_amount_at_the_bound_meets_the_product_limit(underwriter, decided):
    # Given a referred application
    application = decided("5555")
    # When approved with a counter-offer of exactly MONEY_MAX
    response = client_for(underwriter).post(
        f"/api/v1/applications/{application.pk}/approve/", {"amount": AT_BOUND}, format="json"
    )
    # Then the product's limit refuses it, naming amount, and nothing changes
    assert fields_of(response) == {"amount": ["Must be between 1,000.00 and 50,000.00."]}
    assert Application.objects.get(pk=application.pk).status == Application.Status.REFERRED
    assert not UnderwriterAction.objects.exists()


# --- products ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["min_amount", "max_amount", "late_fee_value", "late_fee_cap", "nsf_fee", "four_eyes_limit"],
)
def test_product_amount_above_the_bound_is_400_and_creates_nothing(admin_user, field):
    # Given a product whose one amount is a cent above MONEY_MAX
    body = {**PRODUCT, field: ABOVE}
    # When an admin creates it
    response = client_for(admin_user).post("/api/v1/products/", body, format="json")
    # Then the answer names that field with the bound, and no product exists
    assert fields_of(response) == {field: [TOO_BIG]}
    assert not LoanProduct.objects.filter(code="BIG").exists()


def test_product_amounts_at_the_bound_are_accepted(admin_user):
    # Given a product whose amounts are exactly MONEY_MAX
    body = {
        **PRODUCT,
        "max_amount": AT_BOUND,
        "late_fee_cap": AT_BOUND,
        "nsf_fee": AT_BOUND,
        "four_eyes_limit": AT_BOUND,
    }
    # When an admin creates it
    response = client_for(admin_user).post("/api/v1/products/", body, format="json")
    # Then it is created with them
    assert response.status_code == 201, response.content
    assert response.json()["max_amount"] == AT_BOUND
    version = product_current_version(LoanProduct.objects.get(code="BIG"))
    assert version.four_eyes_limit == Decimal(AT_BOUND)


def test_product_pricing_tier_above_the_bound_is_400(admin_user):
    # Given a pricing tier whose max_amount is above MONEY_MAX
    tiers = [{"min_score": 300, "max_score": 850, "rate": "9.9", "max_amount": ABOVE}]
    # When an admin creates the product
    response = client_for(admin_user).post(
        "/api/v1/products/", {**PRODUCT, "pricing_tiers": tiers}, format="json"
    )
    # Then the answer names pricing_tiers, and no product exists
    assert set(fields_of(response)) == {"pricing_tiers"}
    assert not LoanProduct.objects.filter(code="BIG").exists()
