"""A case's integrator id: close of business opens cases, so an integrator names one
afterwards (`PUT /api/v1/collections/cases/{id}/external-id/`)."""

from __future__ import annotations

from django.db import transaction

from collections_app.lock_objects import case_lock
from collections_app.models import CollectionCase
from collections_app.services.contacts import work_permission_require
from lendcore.core.external_ids import external_id_set


def case_external_id_set(
    *, case: CollectionCase, external_id: str | None, acting_user
) -> CollectionCase:
    """Names the case with the caller's own id (unique among the caller's cases: 409
    `external_id_taken` otherwise; None clears it), audited. Needs work_collections."""
    work_permission_require(acting_user)
    with transaction.atomic():
        locked = case_lock(case_id=case.pk)
        external_id_set(locked, owner=acting_user, external_id=external_id)
    return locked
