"""Collection cases (one open per loan, opened and cured by close of business), their
history, and the round-robin position of each bucket's queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class CollectionCase(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CURED = "cured", "Cured"  # the loan is current again
        CLOSED = "closed", "Closed"  # the loan left servicing (paid off, charged off)

    loan = models.ForeignKey(
        "servicing.Loan", on_delete=models.PROTECT, related_name="collection_cases"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()  # the business date close of business opened it
    closed_on = models.DateField(null=True, blank=True)
    bucket = models.CharField(max_length=16)  # the loan's delinquency bucket, kept in step
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="collection_cases",
    )
    # amount past due x days past due (collections_app.priority); the queue's order
    priority = models.DecimalField(max_digits=24, decimal_places=2, default=0)
    amount_past_due = _money(default=0)
    dpd = models.PositiveIntegerField(default=0)
    # the loan's status when a case closed without a cure (paid_off, charged_off)
    outcome = models.CharField(max_length=32, blank=True, default="")
    # the last business date close of business brought the case up to date
    reviewed_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="open"),
                name="collections_one_open_case_per_loan",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "cured", "closed"]),
                name="collections_case_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | (~Q(status="open") & Q(closed_on__isnull=False)),
                name="collections_case_closed_on_iff_not_open",
            ),
        ]
        indexes = [
            # the queue: open cases by priority, whole or by bucket or by assignee
            models.Index(fields=["status", "-priority", "id"], name="collections_case_queue"),
            models.Index(
                fields=["status", "bucket", "-priority", "id"], name="collections_case_bucket"
            ),
            models.Index(
                fields=["assignee", "status", "-priority", "id"], name="collections_case_mine"
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.status})"

    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CaseEvent(models.Model):
    """A line of a case's history. `actor` is null for close of business."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        ASSIGNED = "assigned", "Assigned"
        REASSIGNED = "reassigned", "Reassigned"
        BUCKET_CHANGED = "bucket_changed", "Bucket changed"
        CURED = "cured", "Cured"
        CLOSED = "closed", "Closed"

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    business_date = models.DateField()
    at = models.DateTimeField()
    # opened: dpd, bucket; assigned: to; reassigned: from, to; bucket_changed: from, to, dpd
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "at", "id"], name="collections_event_case")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.business_date})"


class QueueCursor(models.Model):
    """Round-robin position of a bucket's queue: the collector who got its last new case."""

    bucket = models.CharField(max_length=16, unique=True)
    last_assignee_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.last_assignee_id}"
