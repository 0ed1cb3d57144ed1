"""Row locks of collections (the house rule: every select_for_update lives in a lock_objects
module, so a reader sees at once what a service locks and in which order)."""

from __future__ import annotations

from collections_app.models import ChargeOffRecommendation, CollectionCase, HardshipPlan


def case_lock(*, case_id: int) -> CollectionCase:
    """The case, locked for the rest of the caller's transaction."""
    return CollectionCase.objects.select_for_update().get(pk=case_id)


def plan_lock(*, plan_id: int) -> HardshipPlan:
    return HardshipPlan.objects.select_for_update().get(pk=plan_id)


def recommendation_lock(*, recommendation_id: int) -> ChargeOffRecommendation:
    return ChargeOffRecommendation.objects.select_for_update().get(pk=recommendation_id)
