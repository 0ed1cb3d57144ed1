"""Collections settings, each read with a default."""

from __future__ import annotations

from django.conf import settings


def open_dpd() -> int:
    """Close of business opens a case when a loan is this many days past due (at least 1:
    a current loan has nothing to collect)."""
    return max(1, int(getattr(settings, "COLLECTIONS_OPEN_DPD", 1)))


def queue_page_size() -> int:
    return max(1, int(getattr(settings, "COLLECTIONS_QUEUE_PAGE_SIZE", 25)))
