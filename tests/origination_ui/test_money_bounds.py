"""Money typed in the portal, the staff pages and the admin stops at MONEY_MAX
(999,999,999.99): one cent more is a form error on that field and changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from origination.models import Applicant, Application, ProductVersion, UnderwriterAction
from origination.selectors import product_current_version

from .test_portal import ABOUT, DETAILS, NEW, REVIEW

pytestmark = pytest.mark.django_db

TOO_BIG = "Enter an amount of at most 999,999,999.99."


@pytest.fixture
def terms(product) -> dict:
    return {"product": product.pk, "amount": "10000", "term": "36", "frequency": "monthly"}


@pytest.mark.parametrize("amount", ["1,000,000,000", "1000000000.00", "1e30"])
def test_portal_amount_above_the_bound_is_a_form_error(client_for, borrower, terms, amount):
    # When a borrower asks for an amount above MONEY_MAX
    client = client_for(borrower.user)
    response = client.post(NEW, {**terms, "amount": amount})
    # Then the amount field says so, once, and nothing is kept for the next step
    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [TOO_BIG]
    assert "origination_apply" not in client.session


def test_portal_amount_at_the_bound_meets_the_product_limit(client_for, borrower, terms):
    # When a borrower asks for exactly MONEY_MAX
    response = client_for(borrower.user).post(NEW, {**terms, "amount": "999,999,999.99"})
    # Then the product's limit answers on the amount field
    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [
        "Enter an amount between 1,000 and 50,000."
    ]


@pytest.mark.parametrize(
    "field", ["monthly_income", "monthly_housing_payment", "monthly_other_debts"]
)
def test_portal_details_amount_above_the_bound_is_a_form_error(client_for, borrower, terms, field):
    # Given terms chosen in step 1
    client = client_for(borrower.user)
    client.post(NEW, terms)
    # When step 2 gives one amount above MONEY_MAX
    response = client.post(DETAILS, {**ABOUT, field: "1,000,000,000.00"})
    # Then that field says so and nothing is created
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [TOO_BIG]
    assert client.post(REVIEW).status_code == 302
    assert not Applicant.objects.exists()
    assert not Application.objects.exists()


def test_portal_details_at_the_bound_are_accepted(client_for, borrower, terms):
    # Given terms chosen in step 1
    client = client_for(borrower.user)
    client.post(NEW, terms)
    # When step 2 gives amounts of exactly MONEY_MAX
    bound = "999,999,999.99"
    response = client.post(
        DETAILS,
        {
            **ABOUT,
            "monthly_income": bound,
            "monthly_housing_payment": bound,
            "monthly_other_debts": bound,
        },
    )
    # Then the details are taken and the review creates the applicant with them
    assert response.status_code == 302
    assert response["Location"] == REVIEW
    client.post(REVIEW)
    assert Applicant.objects.get().monthly_income == Decimal("999999999.99")


def test_staff_counter_offer_above_the_bound_is_a_form_error(client_for, underwriter, decided):
    # Given a referred application
    application = decided("5555")
    url = reverse("origination:staff-approve", args=[application.pk])
    # When an underwriter counter-offers an amount above MONEY_MAX
    response = client_for(underwriter).post(url, {"amount": "1,000,000,000"})
    # Then the amount field says so and nothing changes
    assert response.status_code == 400
    assert TOO_BIG in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == "referred"
    assert not UnderwriterAction.objects.exists()


def _admin_version_data(client, url) -> dict:
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = json.dumps(value) if isinstance(value, list | dict) else value
    return data


@pytest.mark.parametrize(
    "field", ["min_amount", "max_amount", "late_fee_value", "late_fee_cap", "nsf_fee"]
)
def test_admin_product_amount_above_the_bound_is_a_form_error(
    client_for, admin_user, product, field
):
    # Given the admin page of the product's current version
    version = product_current_version(product)
    client = client_for(admin_user)
    url = reverse("admin:origination_productversion_change", args=[version.pk])
    data = _admin_version_data(client, url)
    # When an amount above MONEY_MAX is saved
    response = client.post(url, {**data, field: "1000000000.00"})
    # Then the field says so, and no version is added or changed
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [TOO_BIG]
    assert ProductVersion.objects.filter(product=product).count() == 1
    assert product_current_version(product).max_amount == version.max_amount


def test_admin_product_amount_at_the_bound_is_saved(client_for, admin_user, product):
    # Given the admin page of the product's current version
    version = product_current_version(product)
    client = client_for(admin_user)
    url = reverse("admin:origination_productversion_change", args=[version.pk])
    data = _admin_version_data(client, url)
    # When its largest amount is set to exactly MONEY_MAX
    response = client.post(url, {**data, "max_amount": "999999999.99"})
    # Then it is saved
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert product_current_version(product).max_amount == Decimal("999999999.99")
