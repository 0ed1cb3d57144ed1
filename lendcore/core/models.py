from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request made with an `Idempotency-Key`.

    A retry with the same key and the same body gets this answer again; the same key with a
    different body is refused (422); a retry while the first is still running waits for it.
    """

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    scope = models.CharField(max_length=100)  # the operation, e.g. "payment_post:loan:42"
    key = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]  # purge
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=["running", "done"]), name="idempotency_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"


class AuditEvent(models.Model):
    """One thing a person (or the system) did that an auditor may ask about: sign-ins and
    failed ones, tokens, two-factor, PII reveals, document views, exports, staff actions.

    Append-only: the database refuses UPDATE (and, on PostgreSQL, DELETE) of these rows, and
    nothing here points at another table, so a row outlives the user and the object it names
    (their name and label are copied)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=50, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=50, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"


class PendingTask(models.Model):
    """A Celery task the broker could not take when it was sent (Redis down): kept here, after
    the change that asked for it committed, and sent again by `pending_tasks_send` (beat,
    every minute) once the broker is back (`lendcore.core.broker`)."""

    name = models.CharField(max_length=200)  # the task's registered name
    args = models.JSONField(default=list)
    options = models.JSONField(default=dict)  # apply_async options (a queue)
    error = models.CharField(max_length=500, blank=True)  # the broker's last refusal
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"


class TaskReceipt(models.Model):
    """A side effect one task message has had (an e-mail sent), keyed by the message's task id:
    the same message delivered again (Celery delivers at least once) finds its receipt and does
    not repeat the effect (lendcore.core.receipts)."""

    key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key
