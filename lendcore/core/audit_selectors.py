"""Reading the audit trail: search and CSV rows for the auditor's page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Events newest first, narrowed by who (name contains), what, which object and when."""
    events = AuditEvent.objects.all()
    if filters.user:
        events = events.filter(actor_name__icontains=filters.user)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=tz)
        events = events.filter(created_at__gte=start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz)
        events = events.filter(created_at__lt=end)
    return events.order_by("-id")


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("action", flat=True).distinct())


AUDIT_CSV_HEADER = ("when", "action", "user", "ip", "object type", "object id", "object", "detail")


def audit_csv_rows(events: Iterable[AuditEvent]) -> Iterable[list[Any]]:
    for event in events:
        yield [
            event.created_at.isoformat(),
            event.action,
            event.actor_name or "system",
            event.ip,
            event.object_type,
            event.object_id,
            event.object_label,
            event.detail,
        ]
