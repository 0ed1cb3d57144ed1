"""Step: payment reminders (due soon, overdue), sent after commit."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection

from servicing import effects
from servicing.cob import config
from servicing.cob.notifications import sms_enabled
from servicing.effects import task_on_commit
from servicing.models import (
    UNPAID,
    Notification,
)

from .base import Scope, is_postgres

REMINDERS_SQL = """
WITH due AS MATERIALIZED (  -- the range's unpaid installments due on those days, by index
    SELECT i.id, i.loan_id, i.schedule_id, k.kind
      FROM servicing_installment i
      JOIN unnest(%(dates)s::date[], %(kinds)s::text[]) AS k(due, kind) ON k.due = i.due_date
     WHERE i.loan_id BETWEEN %(lo)s AND %(hi)s AND i.due_date = ANY(%(dates)s::date[])
       AND i.paid_on IS NULL  -- unpaid (models.UNPAID)
)
INSERT INTO servicing_notification
       (loan_id, installment_id, kind, channel, business_date, recipient, status, error,
        created_at)
SELECT i.loan_id, i.id, i.kind, ch.channel, %(day)s,
       CASE WHEN ch.channel = 'email' THEN b.email ELSE b.phone END, 'queued', '', now()
  FROM due i
  JOIN servicing_loan l ON l.id = i.loan_id
  JOIN servicing_scheduleversion sv ON sv.id = i.schedule_id AND sv.is_current
  JOIN accounts_borrower b ON b.id = l.borrower_id
 CROSS JOIN unnest(%(channels)s::text[]) AS ch(channel)
 WHERE {scope} AND l.status = 'active'
   AND CASE WHEN ch.channel = 'email' THEN b.email <> '' AND NOT b.email_opt_out
            ELSE b.phone <> '' AND NOT b.sms_opt_out END
ON CONFLICT (installment_id, kind, channel) DO NOTHING
RETURNING id
"""


def _reminder_kinds(day: date) -> dict[date, str]:
    kinds = {day + timedelta(days=config.reminder_days_before()): "due_soon"}
    for n in config.overdue_reminder_days():
        kinds[day - timedelta(days=n)] = f"overdue_{n}"
    return kinds


def _reminder_channels() -> list[str]:
    return [
        channel
        for channel in config.reminder_channels()
        if channel == "email" or (channel == "sms" and sms_enabled())
    ]


def _reminders_send(ids: list[int]) -> None:
    if ids:
        task_on_commit(effects.NOTIFICATIONS_SEND, ids, **config.aux_task_options())


def reminders(scope: Scope) -> int:
    """Queue reminders: installments due in N days, and overdue on the configured days;
    one per installment, kind and channel (unique), respecting the borrower's opt-outs.
    Sent after commit by `servicing.tasks.notifications_send_task`. PostgreSQL: one
    INSERT ... SELECT; elsewhere a read and a bulk insert."""
    kinds = _reminder_kinds(scope.day)
    if is_postgres():
        where, params = scope.sql("l")
        params.update(dates=list(kinds), kinds=list(kinds.values()), channels=_reminder_channels())
        with connection.cursor() as cursor:
            cursor.execute(REMINDERS_SQL.format(scope=where), params)
            ids = [row[0] for row in cursor.fetchall()]
        _reminders_send(ids)
        return len(ids)
    return reminders_orm(scope, kinds)


def reminders_orm(scope: Scope, kinds: dict[date, str]) -> int:
    day = scope.day
    rows = (
        scope.installments()
        .filter(due_date__in=list(kinds))
        .filter(UNPAID)
        .values_list(
            "pk",
            "loan_id",
            "due_date",
            "loan__borrower__email",
            "loan__borrower__email_opt_out",
            "loan__borrower__phone",
            "loan__borrower__sms_opt_out",
        )
    )
    channels = config.reminder_channels()
    sms = "sms" in channels and sms_enabled()
    notes = []
    for pk, loan_id, due, email, email_out, phone, sms_out in rows:
        kind = kinds[due]
        if "email" in channels and email and not email_out:
            notes.append(
                Notification(
                    loan_id=loan_id,
                    installment_id=pk,
                    kind=kind,
                    channel="email",
                    business_date=day,
                    recipient=email,
                )
            )
        if sms and phone and not sms_out:
            notes.append(
                Notification(
                    loan_id=loan_id,
                    installment_id=pk,
                    kind=kind,
                    channel="sms",
                    business_date=day,
                    recipient=phone,
                )
            )
    if not notes:
        return 0
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(
            business_date=day,
            loan_id__gte=scope.lo,
            loan_id__lte=scope.hi,
            status=Notification.Status.QUEUED,
        ).values_list("pk", flat=True)
    )
    _reminders_send(ids)
    return len(ids)
