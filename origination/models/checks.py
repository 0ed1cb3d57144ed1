"""Identity checks and bureau reports, kept with their raw payloads."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from origination.models._fields import money_field
from origination.models.applicants import Applicant


class IdentityCheck(models.Model):
    class Result(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        REVIEW = "review", "Review"

    applicant = models.ForeignKey(
        Applicant, on_delete=models.CASCADE, related_name="identity_checks"
    )
    provider = models.CharField(max_length=50)
    result = models.CharField(max_length=10, choices=Result.choices)
    raw = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(result__in=["pass", "fail", "review"]),
                name="orig_identity_result_valid",
            )
        ]

    def __str__(self) -> str:
        return f"identity {self.result} for applicant {self.applicant_id}"


class BureauReport(models.Model):
    """A credit report as pulled, raw payload included; reused for 30 days."""

    applicant = models.ForeignKey(
        Applicant, on_delete=models.CASCADE, related_name="bureau_reports"
    )
    bureau = models.CharField(max_length=50)
    has_file = models.BooleanField(default=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    score_model = models.CharField(max_length=50, blank=True)
    score_range_min = models.PositiveIntegerField(default=300)
    score_range_max = models.PositiveIntegerField(default=850)
    key_factors = models.JSONField(default=list, blank=True)
    monthly_debts = money_field(default=Decimal("0.00"))
    delinquencies_24m = models.PositiveIntegerField(default=0)
    inquiries_6m = models.PositiveIntegerField(default=0)
    bankruptcies = models.PositiveIntegerField(default=0)
    raw = models.JSONField(default=dict)
    pulled_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-pulled_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bureau} report for applicant {self.applicant_id} ({self.score})"
