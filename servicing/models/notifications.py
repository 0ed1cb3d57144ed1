"""Borrower notifications queued by close of business."""

from __future__ import annotations

from django.db import models

from ._fields import _choices_check
from .loans import Loan
from .schedule import Installment


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """A borrower reminder queued by close of business (sent after commit by a task)."""

    Status = NotificationStatus

    # No database foreign keys, as for loan events (close of business queues thousands of
    # reminders a night, each key checked at its COMMIT); `ledger_check` finds a reminder whose
    # loan or installment is missing.
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="notifications", db_constraint=False
    )
    # Indexed by the unique (installment, kind, channel), which serves a lookup by it alone.
    installment = models.ForeignKey(
        Installment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=24)  # due_soon, overdue_1, overdue_7, ...
    channel = models.CharField(max_length=8)  # email, sms
    business_date = models.DateField()
    recipient = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("notification_status_valid", "status", NotificationStatus),
            models.UniqueConstraint(
                fields=["installment", "kind", "channel"], name="notification_once_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} loan {self.loan_id}"

    @property
    def kind_label(self) -> str:
        """`due_soon` -> "Payment due soon"; `overdue_7` -> "Overdue (7 days)"."""
        if self.kind == "due_soon":
            return "Payment due soon"
        days = self.kind.removeprefix("overdue_")
        if days != self.kind and days.isdigit():
            return f"Overdue ({days} day{'' if days == '1' else 's'})"
        return self.kind.replace("_", " ").capitalize()
