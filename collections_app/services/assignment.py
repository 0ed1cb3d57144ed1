"""Who works a case: round-robin within a bucket for new cases (close of business), and
reassignment by a collections manager."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from collections_app.errors import CaseClosed, CasePermissionDenied, CollectionsValidationError
from collections_app.lock_objects import case_lock
from collections_app.models import CaseEvent, CollectionCase, QueueCursor
from collections_app.webhook_events import case_event_publish
from lendcore.accounts.roles import Action, perm


def _collectors_sql() -> str:
    """`collectors_active`'s query, with the auth tables' names read from the models (the
    user model is swappable)."""
    User = get_user_model()
    pk, is_active = User._meta.pk.column, User._meta.get_field("is_active").column
    groups = User._meta.get_field("groups")
    own = User._meta.get_field("user_permissions")
    group_perms = Group._meta.get_field("permissions")
    # table and column names of the models only (S608)
    perm = (
        f"SELECT p.id FROM {Permission._meta.db_table} p "  # noqa: S608
        f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        "WHERE p.codename = %(codename)s AND ct.app_label = %(app_label)s"
    )
    return f"""
SELECT u.{pk} FROM {User._meta.db_table} u
 WHERE u.{is_active} = %(true)s
   AND u.{pk} IN (
       SELECT ug.{groups.m2m_column_name()} FROM {groups.m2m_db_table()} ug
         JOIN {group_perms.m2m_db_table()} gp
           ON gp.{group_perms.m2m_column_name()} = ug.{groups.m2m_reverse_name()}
        WHERE gp.{group_perms.m2m_reverse_name()} IN ({perm})
       UNION
       SELECT up.{own.m2m_column_name()} FROM {own.m2m_db_table()} up
        WHERE up.{own.m2m_reverse_name()} IN ({perm}))
 ORDER BY u.{pk}
"""  # noqa: S608


def collectors_active() -> list[int]:
    """Ids of the active users whose role (or own permissions) hold work_collections, in id
    order: the round-robin's circle. One plain query: close of business asks for every
    partition, and the ORM's seven-join DISTINCT cost more to build than to run."""
    with connection.cursor() as cursor:
        cursor.execute(
            _collectors_sql(),
            {"true": True, "codename": Action.WORK_COLLECTIONS, "app_label": "accounts"},
        )
        return [row[0] for row in cursor.fetchall()]


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
    circle = collectors_active()
    if not circle:  # nobody to give them to yet: the next close tries again
        return 0
    rows = list(
        cases.filter(status=CollectionCase.Status.OPEN, assignee__isnull=True)
        .order_by("bucket", "-priority", "pk")
        .values_list("pk", "bucket")
    )
    if not rows:
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
