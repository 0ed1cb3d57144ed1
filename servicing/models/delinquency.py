"""Delinquency buckets: history per loan and the charge-off candidate list."""

from __future__ import annotations

from django.db import models

from .loans import Loan


class DelinquencyBucket(models.TextChoices):
    """Default bucket codes; the ranges are configurable (COB_DELINQUENCY_BUCKETS)."""

    CURRENT = "current", "Current"
    B1_29 = "1-29", "1-29 days"
    B30_59 = "30-59", "30-59 days"
    B60_89 = "60-89", "60-89 days"
    B90_119 = "90-119", "90-119 days"
    B120 = "120+", "120+ days"


class DelinquencyHistory(models.Model):
    """A row whenever close of business moves a loan to another bucket."""

    # Indexed by the unique (loan, business date), which serves a lookup by loan alone. No
    # database foreign key, as for loan events (close of business writes these in bulk);
    # `ledger_check` finds a row whose loan is missing.
    loan = models.ForeignKey(
        Loan,
        on_delete=models.PROTECT,
        related_name="bucket_history",
        db_index=False,
        db_constraint=False,
    )
    business_date = models.DateField()
    from_bucket = models.CharField(max_length=16)
    to_bucket = models.CharField(max_length=16)
    dpd = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan_id", "business_date"]
        verbose_name_plural = "delinquency history"
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "business_date"], name="delinquency_history_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.business_date} {self.from_bucket}->{self.to_bucket}"


class ChargeOffCandidate(models.Model):
    """Loans that reached the charge-off threshold (120 DPD): a list for collections.

    No posting: the charge-off itself goes through `charge_off_request` and four-eyes.
    """

    loan = models.OneToOneField(Loan, on_delete=models.PROTECT, related_name="charge_off_candidate")
    listed_on = models.DateField()
    dpd = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["listed_on", "loan_id"]

    def __str__(self) -> str:
        return f"{self.loan_id} listed {self.listed_on} ({self.dpd} dpd)"
