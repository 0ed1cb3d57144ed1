"""Row locks of collections (the house rule: every select_for_update lives in a lock_objects
module, so a reader sees at once what a service locks and in which order)."""

from __future__ import annotations

from collections_app.models import CollectionCase


def case_lock(*, case_id: int) -> CollectionCase:
    """The case, locked for the rest of the caller's transaction."""
    return CollectionCase.objects.select_for_update().get(pk=case_id)
