"""Close-of-business runs, their partitions and the loans that failed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from lendcore.core.state import StatusEvent

from ._fields import _choices_check
from .loans import Loan


class CobRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class CobRun(models.Model):
    """One close of business of one business date (unique: a date closes once)."""

    Status = CobRunStatus

    # A failed run is resumed (running again); a run marked failed by a timeout may still be
    # closed by its late worker. Partitions change by set-based UPDATEs (COB's own statements).
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.RUNNING: (Status.SUCCEEDED, Status.FAILED),
        Status.FAILED: (Status.RUNNING, Status.SUCCEEDED),
    }

    business_date = models.DateField(unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, default="manual")  # manual, api, schedule, command
    mode = models.CharField(max_length=8, default="eager")  # eager, celery
    partitions_total = models.PositiveIntegerField(default=0)
    partitions_done = models.PositiveIntegerField(default=0)
    loans_total = models.PositiveIntegerField(default=0)
    loans_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    steps = models.JSONField(default=dict, blank=True)  # step -> {"count": n, "seconds": s}
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date"]
        constraints = [_choices_check("cob_run_status_valid", "status", CobRunStatus)]

    def __str__(self) -> str:
        return f"COB {self.business_date} {self.status}"

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or self.heartbeat_at
        if end is None:
            return None
        return max((end - self.started_at).total_seconds(), 0.0)

    @property
    def loans_per_second(self) -> float | None:
        seconds = self.seconds
        if not seconds:
            return None
        return self.loans_done / seconds

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> CobRunEvent:
        """The run's status-change row (`lendcore.core.state.transition`)."""
        return CobRunEvent(
            run=self, from_status=from_status, to_status=to_status, actor=actor, reason=reason
        )


class CobRunEvent(StatusEvent):
    """One row per status change of a close-of-business run: who, when, from, to and why."""

    run = models.ForeignKey(CobRun, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        indexes = [models.Index(fields=["run", "id"])]

    def __str__(self) -> str:
        return f"COB run {self.run_id}: {self.from_status} -> {self.to_status}"


class CobPartitionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class CobPartition(models.Model):
    """A loan id range of a run: its work commits in one transaction with `status=done`."""

    Status = CobPartitionStatus

    run = models.ForeignKey(CobRun, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField()
    lo_id = models.BigIntegerField()
    hi_id = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    loans = models.PositiveIntegerField(default=0)
    steps = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "number"]
        constraints = [
            _choices_check("cob_partition_status_valid", "status", CobPartitionStatus),
            models.UniqueConstraint(fields=["run", "number"], name="cob_partition_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.number} [{self.lo_id}, {self.hi_id}] {self.status}"


class CobLoanFailure(models.Model):
    """A loan whose close of business failed (the rest of its partition went on)."""

    run = models.ForeignKey(CobRun, on_delete=models.CASCADE, related_name="failures")
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="+")
    error = models.TextField()
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "loan"], name="cob_loan_failure_unique")
        ]

    def __str__(self) -> str:
        return f"COB {self.run_id} loan {self.loan_id}: {self.error[:40]}"
