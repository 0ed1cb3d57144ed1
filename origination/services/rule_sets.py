"""Versioned decision rule sets: create a draft, activate it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.core.state import actor_of, transition
from origination import rules
from origination.errors import ValidationFailed
from origination.lock_objects import product_lock, rule_sets_of_product_lock
from origination.models import LoanProduct, Rule, RuleSet
from origination.services._common import user_or_none


def _rules_check(rule_dicts: Sequence[Mapping[str, Any]]) -> list[rules.RuleSpec]:
    fields: dict[str, list[str]] = {}
    specs: list[rules.RuleSpec] = []
    for i, raw in enumerate(rule_dicts):
        try:
            spec = rules.RuleSpec.of({"order": i + 1, **raw})
        except (TypeError, ValueError) as exc:
            fields.setdefault("rules", []).append(f"Rule {i + 1}: {exc}.")
            continue
        for field, message in rules.rule_error(spec).items():
            fields.setdefault("rules", []).append(f"Rule {i + 1} {field}: {message}")
        specs.append(spec)
    if not rule_dicts:
        fields.setdefault("rules", []).append("At least one rule.")
    if fields:
        raise ValidationFailed.for_fields(fields)
    return specs


@transaction.atomic
def rule_set_create(
    *, product: LoanProduct, acting_user: Any, rules: Sequence[Mapping[str, Any]], name: str = ""
) -> RuleSet:
    """A new draft version of the product's rule set."""
    specs = _rules_check(rules)
    rule_set = rule_set_draft_add(
        rule_set=RuleSet(product=product, name=name), acting_user=acting_user
    )
    Rule.objects.bulk_create(
        Rule(
            rule_set=rule_set,
            order=spec.order,
            feature=spec.feature,
            operator=spec.operator,
            threshold=spec.threshold,
            outcome=spec.outcome,
            reason_code=spec.reason_code,
            reason_text=spec.reason_text,
        )
        for spec in specs
    )
    return rule_set


@transaction.atomic
def rule_set_draft_add(*, rule_set: RuleSet, acting_user: Any) -> RuleSet:
    """Save a new (unsaved) rule set as the product's next draft version, numbered under the
    product's lock; its rules follow (the admin's inline, or `rule_set_create`)."""
    product_lock(product_id=rule_set.product_id)
    last = RuleSet.objects.filter(product_id=rule_set.product_id).order_by("-version").first()
    rule_set.version = (last.version + 1) if last else 1
    rule_set.status = RuleSet.Status.DRAFT
    rule_set.created_by = user_or_none(acting_user)
    rule_set.save(force_insert=True)
    rule_set.status_event(
        from_status="", to_status=RuleSet.Status.DRAFT, actor=actor_of(acting_user), reason=""
    ).save(force_insert=True)
    return rule_set


@transaction.atomic
def rule_set_activate(*, rule_set: RuleSet, acting_user: Any) -> RuleSet:
    """Make a rule set the product's one active set; the previous one is retired."""
    locked = {rs.pk: rs for rs in rule_sets_of_product_lock(product_id=rule_set.product_id)}
    target = locked[rule_set.pk]
    if target.status == RuleSet.Status.ACTIVE:
        return target
    if not target.rules.exists():
        raise ValidationFailed.for_fields({"rules": ["A rule set without rules cannot be active."]})
    for other in locked.values():
        if other.status == RuleSet.Status.ACTIVE:
            transition(
                other, to="retired", acting_user=acting_user, reason=f"v{target.version} activated"
            )
    target.activated_at = timezone.now()
    target.activated_by = user_or_none(acting_user)
    transition(
        target,
        to="active",
        acting_user=acting_user,
        reason="activated",
        update_fields=["activated_at", "activated_by"],
    )
    return target
