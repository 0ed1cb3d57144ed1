"""Django admin: products, versions and rule sets are editable; saves and actions use services."""

from __future__ import annotations

import pytest

from origination import selectors
from origination.demo import PERSONAL_RULES
from origination.models import LoanProduct, ProductVersion, RuleSet

pytestmark = pytest.mark.django_db


def test_admin_pages_render(client, admin_user, product, decided):
    decided("9999")
    client.force_login(admin_user)
    for url in (
        "/admin/origination/loanproduct/",
        f"/admin/origination/loanproduct/{product.pk}/change/",
        "/admin/origination/productversion/",
        "/admin/origination/ruleset/",
        "/admin/origination/application/",
        "/admin/origination/applicant/",
        "/admin/origination/decision/",
        "/admin/origination/borrowerinvitation/",
        f"/admin/origination/application/{decided('5555').pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


def test_editing_a_version_in_use_saves_a_new_version(client, admin_user, product, decided):
    decided("9999")
    version = selectors.product_current_version(product)
    client.force_login(admin_user)
    url = f"/admin/origination/productversion/{version.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = (
            value if not isinstance(value, (list, dict)) else __import__("json").dumps(value)
        )
    data["max_term"] = 48
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    versions = list(ProductVersion.objects.filter(product=product).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].max_term == 60
    assert versions[1].max_term == 48


def test_activate_action_keeps_one_active(client, admin_user, product):
    from origination import services

    draft = services.rule_set_create(product=product, acting_user=admin_user, rules=PERSONAL_RULES)
    client.force_login(admin_user)
    response = client.post(
        "/admin/origination/ruleset/",
        {"action": "activate", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    assert RuleSet.objects.get(product=product, status="active") == draft


def test_adding_a_rule_set_numbers_it_through_the_service(client, admin_user, product):
    # Given the product's rule set v1 (the fixture's)
    client.force_login(admin_user)
    # When an admin adds a rule set with one inline rule
    response = client.post(
        "/admin/origination/ruleset/add/",
        {
            "product": product.pk,
            "name": "stricter",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-MIN_NUM_FORMS": "0",
            "rules-MAX_NUM_FORMS": "1000",
            "rules-0-order": "1",
            "rules-0-feature": "score",
            "rules-0-operator": "lt",
            "rules-0-threshold": "600",
            "rules-0-outcome": "decline",
            "rules-0-reason_code": "SCORE_LOW",
            "rules-0-reason_text": "Score too low",
        },
    )
    # Then it is the next draft version, with its rule and its draft event, made by that admin
    assert response.status_code == 302
    added = RuleSet.objects.get(product=product, name="stricter")
    assert added.version == 2
    assert added.status == RuleSet.Status.DRAFT
    assert added.created_by == admin_user
    assert added.rules.count() == 1
    assert [(e.from_status, e.to_status) for e in added.events.all()] == [("", "draft")]


def test_products_are_saved_through_the_service(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/origination/loanproduct/add/",
        {
            "code": "AUTO",
            "name": "Auto",
            "active": "on",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    product = LoanProduct.objects.get(code="AUTO")
    assert not product.versions.exists()  # terms are versions, made by product_update
    change = f"/admin/origination/loanproduct/{product.pk}/change/"
    response = client.post(
        change,
        {
            "name": "Auto loans",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.active) == ("Auto loans", False)
