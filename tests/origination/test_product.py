"""product_create / product_update: a version in use is never edited in place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from origination import selectors, services
from origination.demo import PERSONAL_TERMS
from origination.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_personal_product_matches_the_contract(product):
    version = selectors.product_current_version(product)
    assert product.code == "PERSONAL"
    assert product.active
    assert (version.min_amount, version.max_amount) == (Decimal("1000.00"), Decimal("50000.00"))
    assert (version.min_term, version.max_term, version.frequencies) == (12, 60, ["monthly"])
    assert (version.day_count, version.interest_model) == ("ACT/365F", "daily_simple")
    assert (version.origination_fee_value, version.origination_fee_timing) == (
        Decimal("3"),
        "prepaid",
    )
    assert (version.late_fee_value, version.late_fee_grace_days) == (Decimal("15.00"), 10)
    assert version.required_document_types == ["id_proof", "proof_of_income"]
    assert version.four_eyes_limit == Decimal("25000.00")
    assert selectors.rule_set_active(product_id=product.pk) is not None


def test_unused_version_is_edited_in_place(product, admin_user):
    version = services.product_update(product=product, acting_user=admin_user, max_term=48)
    assert version.version == 1
    assert version.max_term == 48


def test_a_version_in_use_is_versioned_and_the_application_keeps_its_terms(
    make_application, product, admin_user
):
    application = make_application()
    new = services.product_update(
        product=product, acting_user=admin_user, max_amount=Decimal("40000.00")
    )
    assert new.version == 2
    application.refresh_from_db()
    assert application.product_version.version == 1
    assert application.product_version.max_amount == Decimal("50000.00")
    assert selectors.product_current_version(product).max_amount == Decimal("40000.00")


def test_bad_terms_are_400(admin_user):
    terms = {**PERSONAL_TERMS, "min_amount": Decimal("500.00"), "max_amount": Decimal("100.00")}
    with pytest.raises(ValidationFailed) as excinfo:
        services.product_create(acting_user=admin_user, code="BAD", name="Bad", **terms)
    assert "max_amount" in excinfo.value.extra["fields"]
