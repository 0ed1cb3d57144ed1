"""The rule-set editor, the backtest page and activation (manage_products)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from origination import selectors
from origination.models import RuleSet

pytestmark = pytest.mark.django_db


def _form_data(rule_set, change=None, extra=None) -> dict:
    rules = list(rule_set.rules.all())
    data = {
        "name": "Looser refer",
        "rules-TOTAL_FORMS": str(len(rules) + (1 if extra else 0)),
        "rules-INITIAL_FORMS": str(len(rules)),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for i, rule in enumerate(rules):
        row = {
            "feature": rule.feature,
            "operator": rule.operator,
            "threshold": rule.threshold,
            "outcome": rule.outcome,
            "reason_code": rule.reason_code,
            "reason_text": rule.reason_text,
        }
        if change:
            row = change(row)
        data.update({f"rules-{i}-{k}": v for k, v in row.items()})
    if extra:
        data.update({f"rules-{len(rules)}-{k}": v for k, v in extra.items()})
    return data


def _refer_at_640(row: dict) -> dict:
    if row["feature"] == "score" and row["outcome"] == "refer":
        row["threshold"] = "640"
    return row


@pytest.fixture
def active(product):
    return selectors.rule_set_active(product_id=product.pk)


def test_list_renders_for_admin_and_is_forbidden_to_underwriters(
    client_for, admin_user, underwriter, active
):
    response = client_for(admin_user).get(reverse("origination:staff-rule-sets"))
    assert response.status_code == 200
    assert f"v{active.version}" in response.content.decode()
    assert client_for(underwriter).get(reverse("origination:staff-rule-sets")).status_code == 403
    edit = reverse("origination:staff-rule-set-edit", args=[active.pk])
    assert client_for(underwriter).get(edit).status_code == 403


def test_edit_saves_a_new_draft_and_backtest_shows_the_flips(
    client_for, admin_user, active, decided
):
    # Given a referred (score 650) and an approved (790) application under the active set
    referred = decided("5555")
    decided("9999")
    client = client_for(admin_user)
    edit = reverse("origination:staff-rule-set-edit", args=[active.pk])
    assert client.get(edit).status_code == 200
    # When the refer threshold is lowered to 640 and saved
    response = client.post(edit, _form_data(active, change=_refer_at_640))
    draft = RuleSet.objects.exclude(pk=active.pk).get()
    assert response.status_code == 302
    assert draft.status == "draft"
    assert draft.version == active.version + 1
    # Then the backtest flips the referred application to approve
    page = client.get(reverse("origination:staff-rule-set", args=[draft.pk]), {"limit": "50"})
    result = page.context["result"]
    assert result.compared == 2
    assert [(f["application"], f["before"], f["after"]) for f in result.flips] == [
        (referred.pk, "refer", "approve")
    ]
    body = page.content.decode()
    assert "Approval rate before" in body
    assert "50%" in body
    assert "100%" in body
    assert f"#{referred.pk}" in body


def test_adding_a_rule_in_the_empty_row(client_for, admin_user, active):
    extra = {
        "feature": "inquiries_6m",
        "operator": "gt",
        "threshold": "6",
        "outcome": "refer",
        "reason_code": "TOO_MANY_INQUIRIES",
        "reason_text": "Too many recent inquiries",
    }
    edit = reverse("origination:staff-rule-set-edit", args=[active.pk])
    client_for(admin_user).post(edit, _form_data(active, extra=extra))
    draft = RuleSet.objects.exclude(pk=active.pk).get()
    assert draft.rules.count() == active.rules.count() + 1


def test_a_bad_rule_is_400_and_saves_nothing(client_for, admin_user, active):
    def bad(row):
        if row["feature"] == "score":
            row["threshold"] = "six hundred"
        return row

    edit = reverse("origination:staff-rule-set-edit", args=[active.pk])
    response = client_for(admin_user).post(edit, _form_data(active, change=bad))
    assert response.status_code == 400
    assert "is not a number" in response.content.decode()
    assert RuleSet.objects.count() == 1


def test_backtest_limit_out_of_range_is_400(client_for, admin_user, active):
    page = client_for(admin_user).get(
        reverse("origination:staff-rule-set", args=[active.pk]), {"limit": "0"}
    )
    assert page.status_code == 400
    assert page.context["result"] is None


def test_activate_makes_the_draft_active_and_retires_the_old(client_for, admin_user, active):
    client = client_for(admin_user)
    client.post(
        reverse("origination:staff-rule-set-edit", args=[active.pk]),
        _form_data(active, change=_refer_at_640),
    )
    draft = RuleSet.objects.exclude(pk=active.pk).get()
    response = client.post(reverse("origination:staff-rule-set-activate", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    active.refresh_from_db()
    assert (draft.status, active.status) == ("active", "retired")


def test_activate_is_forbidden_without_manage_products(client_for, underwriter, active):
    url = reverse("origination:staff-rule-set-activate", args=[active.pk])
    assert client_for(underwriter).post(url).status_code == 403
