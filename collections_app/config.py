"""Collections settings, each read with a default."""

from __future__ import annotations

from django.conf import settings

from .contact_rules import DEFAULT_TIME_ZONE


def open_dpd() -> int:
    """Close of business opens a case when a loan is this many days past due (at least 1:
    a current loan has nothing to collect)."""
    return max(1, int(getattr(settings, "COLLECTIONS_OPEN_DPD", 1)))


def queue_page_size() -> int:
    return max(1, int(getattr(settings, "COLLECTIONS_QUEUE_PAGE_SIZE", 25)))


def default_time_zone() -> str:
    """The time zone of a borrower who has not set one (COLLECTIONS_DEFAULT_TIME_ZONE)."""
    return str(getattr(settings, "COLLECTIONS_DEFAULT_TIME_ZONE", DEFAULT_TIME_ZONE))


def sms_backend() -> str:
    """COLLECTIONS_SMS_BACKEND: a class with `send(to, body)`; the default records the
    message (collections_app.sms.RecordingSms) instead of sending it."""
    return str(getattr(settings, "COLLECTIONS_SMS_BACKEND", "collections_app.sms.RecordingSms"))


MAX_PROMISE_INSTALMENTS = 12


def hardship_break_dpd() -> int:
    """Close of business breaks an active hardship plan when its loan is this many days past
    due again."""
    return max(1, int(getattr(settings, "COLLECTIONS_HARDSHIP_BREAK_DPD", 30)))


def placement_agency_default() -> str:
    return str(getattr(settings, "COLLECTIONS_PLACEMENT_AGENCY", "Outside agency"))
