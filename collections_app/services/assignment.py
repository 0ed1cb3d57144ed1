"""Who works a case: round-robin within a bucket for new cases (close of business), and
reassignment by a collections manager."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from collections_app.errors import CaseClosed, CasePermissionDenied, CollectionsValidationError
from collections_app.lock_objects import case_lock
from collections_app.models import CaseEvent, CollectionCase, QueueCursor
from collections_app.webhook_events import case_event_publish
from lendcore.accounts.roles import Action, perm


def collectors_active() -> list[int]:
    """Ids of the active users whose role (or own permissions) hold work_collections, in id
    order: the round-robin's circle."""
    User = get_user_model()
    holds = Q(
        groups__permissions__codename=Action.WORK_COLLECTIONS,
        groups__permissions__content_type__app_label="accounts",
    ) | Q(
        user_permissions__codename=Action.WORK_COLLECTIONS,
        user_permissions__content_type__app_label="accounts",
    )
    return list(
        User.objects.filter(holds, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def _next_after(circle: list[int], last: int | None) -> int:
    """Index in `circle` of the first collector after `last` (wrapping round)."""
    if last is not None:
        for index, pk in enumerate(circle):
            if pk > last:
                return index
    return 0


def cases_assign_round_robin(cases: QuerySet[CollectionCase], *, on: date) -> int:
    """Give each unassigned open case of `cases` a collector: within each bucket, in
    priority order, the next collector after the one who got the bucket's last case. A few
    statements whatever the number of cases. Returns the cases assigned."""
    rows = list(
        cases.filter(status=CollectionCase.Status.OPEN, assignee__isnull=True)
        .order_by("bucket", "-priority", "pk")
        .values_list("pk", "bucket")
    )
    if not rows:
        return 0
    circle = collectors_active()
    if not circle:  # nobody to give them to yet: the next close tries again
        return 0
    buckets = sorted({bucket for _, bucket in rows})
    last = dict(
        QueueCursor.objects.filter(bucket__in=buckets).values_list("bucket", "last_assignee_id")
    )
    position = {bucket: _next_after(circle, last.get(bucket)) for bucket in buckets}
    assigned: list[CollectionCase] = []
    events: list[CaseEvent] = []
    now = timezone.now()
    for pk, bucket in rows:
        user_id = circle[position[bucket] % len(circle)]
        position[bucket] += 1
        last[bucket] = user_id
        assigned.append(CollectionCase(pk=pk, assignee_id=user_id))
        events.append(
            CaseEvent(
                case_id=pk,
                kind=CaseEvent.Kind.ASSIGNED,
                business_date=on,
                at=now,
                data={"to": user_id, "rule": "round_robin"},
            )
        )
    CollectionCase.objects.bulk_update(assigned, ["assignee"], batch_size=500)
    CaseEvent.objects.bulk_create(events, batch_size=500)
    QueueCursor.objects.bulk_create(
        [QueueCursor(bucket=bucket, last_assignee_id=last[bucket]) for bucket in buckets],
        update_conflicts=True,
        unique_fields=["bucket"],
        update_fields=["last_assignee_id"],
    )
    return len(assigned)


def case_assign(
    *, case: CollectionCase, assignee_id: int | None, acting_user, on: date
) -> CollectionCase:
    """A manager gives an open case to a collector (403 without manage_collections, 400 for
    someone who cannot work collections, 409 for a case no longer open)."""
    if acting_user is not None and not acting_user.has_perm(perm(Action.MANAGE_COLLECTIONS)):
        raise CasePermissionDenied(
            f"This action needs a staff role with: {Action.MANAGE_COLLECTIONS}"
        )
    if assignee_id is None:
        raise CollectionsValidationError.field("assignee", "Choose a collector.")
    if assignee_id not in collectors_active():
        raise CollectionsValidationError.field(
            "assignee", "This user is not an active collector (no work_collections)."
        )
    with transaction.atomic():
        locked = case_lock(case_id=case.pk)
        if not locked.is_open():
            raise CaseClosed(f"Case {locked.pk} is {locked.status}: only an open case is assigned.")
        previous = locked.assignee_id
        if previous == assignee_id:
            return locked
        locked.assignee_id = assignee_id
        locked.save(update_fields=["assignee"])
        event = CaseEvent.objects.create(
            case=locked,
            kind=CaseEvent.Kind.REASSIGNED if previous else CaseEvent.Kind.ASSIGNED,
            actor=acting_user if getattr(acting_user, "pk", None) else None,
            business_date=on,
            at=timezone.now(),
            data={"from": previous, "to": assignee_id},
        )
        case_event_publish(event, loan_id=locked.loan_id)
    return locked
