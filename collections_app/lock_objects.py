"""Row locks of collections (the house rule: every select_for_update lives in a lock_objects
module, so a reader sees at once what a service locks and in which order)."""

from __future__ import annotations

from collections_app.models import (
    ChargeOffRecommendation,
    CollectionCase,
    ContactPreference,
    HardshipPlan,
)


def case_lock(*, case_id: int) -> CollectionCase:
    """The case, locked for the rest of the caller's transaction."""
    return CollectionCase.objects.select_for_update().get(pk=case_id)


def preference_lock(*, borrower_id: int, time_zone: str) -> ContactPreference:
    """The borrower's contact preferences (made with `time_zone` if none yet), locked."""
    pref, _ = ContactPreference.objects.select_for_update().get_or_create(
        borrower_id=borrower_id, defaults={"time_zone": time_zone}
    )
    return pref


def plan_lock(*, plan_id: int) -> HardshipPlan:
    return HardshipPlan.objects.select_for_update().get(pk=plan_id)


def recommendation_lock(*, recommendation_id: int) -> ChargeOffRecommendation:
    return ChargeOffRecommendation.objects.select_for_update().get(pk=recommendation_id)
