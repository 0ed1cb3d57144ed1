"""rule_set_create, rule_set_activate and rule_set_backtest (with a known set)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from origination import selectors, services
from origination.demo import PERSONAL_RULES
from origination.errors import ValidationFailed
from origination.models import RuleSet

from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def _rules_with(score_refer_threshold: str) -> list[dict]:
    rules = [dict(r) for r in PERSONAL_RULES]
    for rule in rules:
        if rule["reason_code"] == "SCORE_BELOW_AUTO_APPROVAL":
            rule["threshold"] = score_refer_threshold
    return rules


def test_create_validates_every_rule(product, admin_user):
    with pytest.raises(ValidationFailed) as excinfo:
        services.rule_set_create(
            product=product,
            acting_user=admin_user,
            rules=[
                {
                    "feature": "shoe_size",
                    "operator": "lt",
                    "threshold": "x",
                    "outcome": "decline",
                    "reason_code": "A",
                    "reason_text": "B",
                }
            ],
        )
    messages = " ".join(excinfo.value.extra["fields"]["rules"])
    assert "feature" in messages
    assert "threshold" in messages
    assert RuleSet.objects.filter(product=product).count() == 1


def test_activate_keeps_exactly_one_active_rule_set(product, admin_user):
    old = selectors.rule_set_active(product_id=product.pk)
    draft = services.rule_set_create(
        product=product, acting_user=admin_user, rules=_rules_with("700")
    )
    assert draft.status == "draft"
    assert draft.version == 2
    services.rule_set_activate(rule_set=draft, acting_user=admin_user)
    old.refresh_from_db()
    assert old.status == "retired"
    assert RuleSet.objects.filter(product=product, status="active").get() == draft
    again = services.rule_set_activate(rule_set=draft, acting_user=admin_user)  # replay
    assert again.status == "active"


def test_backtest_shows_the_flips_of_a_changed_threshold(decided, product, admin_user):
    # Given a known set: scores 790 (approve), 634/650 (refer), 520 (decline), 700 (approve)
    a790 = decided("9999")
    a650 = decided("5555")
    a634 = decided("1234")
    decided("1111")
    a700 = decided("0100")  # 600 + 100 = 700
    assert a700.status == "approved"

    # When the refer threshold is raised to 720 and lowered to 640 in a draft
    stricter = services.rule_set_create(
        product=product, acting_user=admin_user, rules=_rules_with("720")
    )
    looser = services.rule_set_create(
        product=product, acting_user=admin_user, rules=_rules_with("640")
    )
    strict = selectors.rule_set_backtest(rule_set=stricter, limit=100)
    loose = selectors.rule_set_backtest(rule_set=looser, limit=100)

    # Then 700 flips to refer under the stricter set; 650 flips to approve under the looser
    assert strict.compared == 5
    assert strict.approval_rate_before == Decimal("0.4000")
    assert strict.approval_rate_after == Decimal("0.2000")
    assert [(f["application"], f["before"], f["after"]) for f in strict.flips] == [
        (a700.pk, "approve", "refer")
    ]
    assert loose.approval_rate_after == Decimal("0.6000")
    assert [(f["application"], f["after"]) for f in loose.flips] == [(a650.pk, "approve")]
    assert a634.pk not in [f["application"] for f in loose.flips]
    assert a790.status == "approved"
    # Nothing was written: the active set is unchanged
    assert selectors.rule_set_active(product_id=product.pk).version == 1


def test_backtest_limit_takes_the_last_n(decided, product, admin_user):
    for _ in range(3):
        decided(applicant=ApplicantFactory(last4="9999"))
    draft = services.rule_set_create(
        product=product, acting_user=admin_user, rules=_rules_with("680")
    )
    assert selectors.rule_set_backtest(rule_set=draft, limit=2).compared == 2
