"""Fees assessed on a loan and their waivers."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from ._fields import _choices_check, _money
from .ledger import JournalEntry
from .loans import Loan
from .payments import Payment
from .schedule import Installment


class FeeKind(models.TextChoices):
    LATE = "late", "Late fee"
    NSF = "nsf", "NSF fee"
    MANUAL = "manual", "Manual fee"
    # A refunded credit balance whose payment came back: the borrower owes it again
    # (Dr fees receivable, Cr borrower credit: not income).
    REFUND = "refund", "Refunded credit owed back"


class Fee(models.Model):
    Kind = FeeKind

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = _money()
    paid_amount = _money()
    waived_amount = _money()
    # A late fee reversed because its condition no longer holds (a backdated payment made
    # the installment paid in time): the part reversed, and the business date it was.
    reversed_amount = _money()
    reversed_on = models.DateField(null=True, blank=True)
    assessed_on = models.DateField()  # effective date
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="fees"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="fees"
    )
    reason = models.CharField(max_length=255, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="fee")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("fee_kind_valid", "kind", FeeKind),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0)
                & Q(waived_amount__gte=0)
                & Q(reversed_amount__gte=0)
                & Q(amount__gte=F("paid_amount") + F("waived_amount") + F("reversed_amount")),
                name="fee_settled_within_amount",
            ),
            models.UniqueConstraint(
                fields=["installment"],
                condition=Q(kind="late", reversed_on__isnull=True),
                name="fee_one_late_fee_per_installment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} fee {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount - self.waived_amount - self.reversed_amount

    @property
    def is_late(self) -> bool:
        return self.kind == FeeKind.LATE

    @property
    def status(self) -> str:
        if self.reversed_on is not None:
            return "reversed"
        if self.outstanding > 0:
            return "outstanding"
        return "waived" if self.waived_amount > 0 and self.paid_amount == 0 else "settled"


class FeeWaiver(models.Model):
    fee = models.ForeignKey(Fee, on_delete=models.PROTECT, related_name="waivers")
    amount = _money()
    reason = models.CharField(max_length=255)
    effective_date = models.DateField()
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="waiver")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_waiver_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Waiver {self.amount} of fee {self.fee_id}"


# --------------------------------------------------------------------------- approvals
