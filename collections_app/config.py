"""Collections settings, each read with a default."""

from __future__ import annotations

from django.conf import settings


def open_dpd() -> int:
    """Close of business opens a case when a loan is this many days past due (at least 1:
    a current loan has nothing to collect)."""
    return max(1, int(getattr(settings, "COLLECTIONS_OPEN_DPD", 1)))


def queue_page_size() -> int:
    return max(1, int(getattr(settings, "COLLECTIONS_QUEUE_PAGE_SIZE", 25)))


def hardship_break_dpd() -> int:
    """Close of business breaks an active hardship plan when its loan is this many days past
    due again."""
    return max(1, int(getattr(settings, "COLLECTIONS_HARDSHIP_BREAK_DPD", 30)))


def placement_agency_default() -> str:
    return str(getattr(settings, "COLLECTIONS_PLACEMENT_AGENCY", "Outside agency"))
