"""Django admin: products, versions and rule sets are editable; saves and actions use services."""

from __future__ import annotations

import pytest

from origination import selectors
from origination.demo import PERSONAL_RULES
from origination.models import ProductVersion, RuleSet

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
