"""Portfolio import jobs: a CSV of loans migrated from another system, boarded by a task."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from lendcore.core.state import status_check


class LoanImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class LoanImport(models.Model):
    """One upload. The files are kept as uploaded (bytes) for the task and for audit."""

    Status = LoanImportStatus

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    payments_content = models.BinaryField(null=True, blank=True)
    valid_only = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    total_rows = models.PositiveIntegerField(default=0)
    validated_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    # [{file, row, column, code, message}] (the first ERRORS_KEPT)
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [status_check(LoanImportStatus, name="loan_import_status_valid")]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.status}"
