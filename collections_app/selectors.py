"""Collections' reads, shared by the staff queue page and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import QuerySet

from servicing.selectors import business_date_get

from .errors import CaseNotFound, CollectionsValidationError
from .filters import CaseFilter
from .models import CaseEvent, CollectionCase

__all__ = ["business_date_get", "case_events", "case_get", "case_list"]


def case_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[CollectionCase]:
    """Cases narrowed by `filters` (`filters.CaseFilter`), highest priority first, with the
    loan, its borrower and the assignee joined (one query per page). Bad filters: 400."""
    filterset = CaseFilter(filters or {}, queryset=CollectionCase.objects.all(), user=user)
    if not filterset.is_valid():
        raise CollectionsValidationError.for_fields(
            {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        )
    return filterset.qs.select_related("loan", "loan__borrower", "assignee").order_by(
        "-priority", "pk"
    )


def case_get(*, case_id: int) -> CollectionCase:
    case = (
        CollectionCase.objects.select_related("loan", "loan__borrower", "assignee")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise CaseNotFound(f"No case {case_id}.")
    return case


def case_events(case: CollectionCase) -> list[CaseEvent]:
    return list(case.events.select_related("actor").order_by("at", "pk"))


def today() -> date:
    return business_date_get()
