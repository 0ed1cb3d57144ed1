"""Reminder delivery: e-mail (Django's mail backend) and SMS through a pluggable backend.

SMS_BACKEND (default none: SMS off) names a class with `send(to, body)`;
`servicing.cob.notifications.LocmemSms` keeps messages in `LocmemSms.outbox` (tests, demo).
Templates: templates/servicing/email/reminder_<kind>.txt (subject on the first line).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string

from servicing.models import Notification


class LocmemSms:
    outbox: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        self.outbox.append((to, body))


def _sms_backend() -> str:
    """The SMS_BACKEND setting (optional, so not declared in the settings modules)."""
    return str(getattr(settings, "SMS_BACKEND", "") or "")


def sms_enabled() -> bool:
    return bool(_sms_backend())


def _template(kind: str) -> str:
    return "due_soon" if kind == "due_soon" else "overdue"


def notifications_send(*, notification_ids: list[int]) -> int:
    """Send queued notifications (idempotent: only `queued` ones; each marked sent/failed)."""
    sent = 0
    queued = (
        Notification.objects.filter(pk__in=notification_ids, status=Notification.Status.QUEUED)
        .select_related("loan__borrower", "installment")
        .order_by("pk")
    )
    for note in queued:
        context = {
            "borrower": note.loan.borrower,
            "loan": note.loan,
            "installment": note.installment,
            "days": note.kind.removeprefix("overdue_") if note.kind != "due_soon" else "",
            "remaining": note.installment.remaining if note.installment else None,
        }
        text = render_to_string(f"servicing/email/reminder_{_template(note.kind)}.txt", context)
        subject, _, body = text.strip().partition("\n")
        try:
            if note.channel == "sms":
                import_string(_sms_backend())().send(note.recipient, subject.strip())
            else:
                send_mail(subject.strip(), body.strip(), None, [note.recipient])
        except Exception as error:  # the outside world: record and go on
            Notification.objects.filter(pk=note.pk).update(
                status=Notification.Status.FAILED, error=str(error)[:500]
            )
            continue
        Notification.objects.filter(pk=note.pk).update(
            status=Notification.Status.SENT, sent_at=timezone.now()
        )
        sent += 1
    return sent
