"""The outbox (`Event`), the subscriptions, and each delivery with its attempts."""

from __future__ import annotations

import os
import time
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class WebhookSubscription(models.Model):
    """An integrator's endpoint: where to post, which event types, and the signing secret
    (`whsec_…`, encrypted at rest). During a rotation the previous secret signs too, until
    `previous_secret_expires_at`."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # failed attempts in a row (any delivery); a success resets it; the setting
    # WEBHOOK_DISABLE_AFTER_FAILURES disables the subscription and notifies its owner
    failure_run = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.event_types)})"


def event_uid() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): the milliseconds since the epoch in the first 48 bits, then the
    version, 74 random bits and the variant. `OUTBOX_UID_SQL` makes the same in SQL."""
    value = (time.time_ns() // 1_000_000 & (1 << 48) - 1) << 80
    value |= int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC's variant
    return uuid.UUID(int=value)


class Event(models.Model):
    """The transactional outbox: one row per domain event, written in the transaction of the
    change it reports (one INSERT), dispatched to the subscriptions afterwards. `loan_id` (no
    foreign key: this app knows no domain app) keys the per-loan order."""

    # Time-ordered (UUIDv7, `event_uid`): a night's events append to the unique index where
    # random ones wrote a page each across it (a full-page image each after a checkpoint).
    uid = models.UUIDField(default=event_uid, unique=True, editable=False)
    type = models.CharField(max_length=64)
    loan_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_default=Now())
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="webhooks_event_todo"
            ),
            models.Index(fields=["loan_id", "id"], name="webhooks_event_loan"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def webhook_id(self) -> str:
        """The `webhook-id` header: the same on every attempt and redelivery (receivers
        dedupe on it)."""
        return f"msg_{self.uid.hex}"


class WebhookDelivery(models.Model):
    """One event to one subscription: pending until a 2xx answer (succeeded) or the last
    allowed failure (dead). `attempts` counts the failures since it was (re)queued."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        DEAD = "dead", "Dead-lettered"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    loan_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhooks_delivery_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "dead"]),
                name="webhooks_delivery_status",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due",
            ),
            models.Index(
                fields=["subscription", "loan_id", "event"], name="webhooks_delivery_loan"
            ),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long, the answer (status and the start of the
    body) or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attempt #{self.pk} ({self.status_code or self.error})"
