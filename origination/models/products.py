"""Loan products and their versions (a version in use is never edited)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from origination.models._fields import money_field, rate_field


class LoanProduct(models.Model):
    """A product's identity. Its terms live in versions: a version in use is never edited."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProductVersion(models.Model):
    """The terms of a product at one point in time (amount/term limits, pricing, fees, policy)."""

    class Amortization(models.TextChoices):
        LEVEL = "level", "Level payments"
        EQUAL_PRINCIPAL = "equal_principal", "Equal principal"

    class InterestMethod(models.TextChoices):
        DECLINING = "declining", "Declining balance"
        FLAT = "flat", "Flat (add-on)"

    class DayCount(models.TextChoices):
        THIRTY_360 = "30/360", "30/360"
        ACT_365F = "ACT/365F", "Actual/365 (fixed)"
        ACT_360 = "ACT/360", "Actual/360"
        ACT_ACT = "ACT/ACT-ISDA", "Actual/Actual (ISDA)"

    class InterestModel(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DAILY_SIMPLE = "daily_simple", "Daily simple interest"

    class FeeBasis(models.TextChoices):
        FLAT = "flat", "Flat amount"
        PERCENT = "percent", "Percent"

    class FeeTiming(models.TextChoices):
        PREPAID = "prepaid", "Prepaid (deducted from the proceeds)"
        FINANCED = "financed", "Financed (added to the loan)"

    class Prepayment(models.TextChoices):
        REDUCE_TERM = "reduce_term", "Reduce term"
        REAMORTIZE = "reamortize", "Re-amortize"

    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    min_amount = money_field()
    max_amount = money_field()
    min_term = models.PositiveIntegerField()
    max_term = models.PositiveIntegerField()
    frequencies = models.JSONField(default=list)  # e.g. ["monthly"]
    amortization = models.CharField(
        max_length=20, choices=Amortization.choices, default=Amortization.LEVEL
    )
    interest_method = models.CharField(
        max_length=20, choices=InterestMethod.choices, default=InterestMethod.DECLINING
    )
    day_count = models.CharField(max_length=16, choices=DayCount.choices, default="30/360")
    interest_model = models.CharField(
        max_length=20, choices=InterestModel.choices, default=InterestModel.SCHEDULED
    )
    payment_rounding = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.01"))
    # Pricing: a base rate, or risk-based tiers [{min_score, max_score, rate, max_amount}].
    base_rate = rate_field(default=Decimal("0"))
    pricing_tiers = models.JSONField(default=list, blank=True)
    origination_fee_basis = models.CharField(
        max_length=10, choices=FeeBasis.choices, default=FeeBasis.PERCENT
    )
    origination_fee_value = rate_field(default=Decimal("0"))
    origination_fee_timing = models.CharField(
        max_length=10, choices=FeeTiming.choices, default=FeeTiming.PREPAID
    )
    late_fee_basis = models.CharField(
        max_length=10, choices=FeeBasis.choices, default=FeeBasis.FLAT
    )
    late_fee_value = money_field(default=Decimal("0.00"))
    late_fee_grace_days = models.PositiveIntegerField(default=0)
    late_fee_cap = money_field(null=True, blank=True)
    nsf_fee = money_field(default=Decimal("0.00"))
    allocation_order = models.JSONField(default=list, blank=True)  # e.g. ["fees", "interest", ...]
    prepayment_option = models.CharField(
        max_length=12, choices=Prepayment.choices, default=Prepayment.REDUCE_TERM
    )
    required_document_types = models.JSONField(default=list, blank=True)
    four_eyes_limit = money_field(null=True, blank=True)
    offer_validity_days = models.PositiveIntegerField(default=30)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["product_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="orig_product_version_uq"),
            models.CheckConstraint(
                condition=models.Q(min_amount__gt=0, max_amount__gte=models.F("min_amount")),
                name="orig_product_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_term__gte=1, max_term__gte=models.F("min_term")),
                name="orig_product_term_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.version}"
