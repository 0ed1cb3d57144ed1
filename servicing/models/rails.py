"""Autopay enrolments and transfers on the payment rail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from lendcore.core import crypto

from ._fields import _choices_check, _money
from .loans import EventKind, Loan, LoanEvent
from .payments import Payment, PaymentMethod
from .schedule import Installment


class AutopayEnrolment(models.Model):
    """A borrower's standing instruction to debit a bank account on each due date.

    The account and routing numbers are stored encrypted (`lendcore.core.crypto`); only the
    account's last four digits are kept in clear for display.
    """

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="autopay_enrolments")
    account_encrypted = models.TextField()
    routing_number_encrypted = models.TextField(blank=True)
    account_last4 = models.CharField(max_length=4)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"], condition=Q(active=True), name="autopay_one_active_per_loan"
            )
        ]

    def __str__(self) -> str:
        return f"Autopay {self.loan_id} ****{self.account_last4}"

    # The clear routing number, for the rail only (decrypted on read); pages show the masked one.
    routing_number = crypto.encrypted_property("routing_number_encrypted")

    @property
    def routing_number_masked(self) -> str:
        return crypto.mask(self.routing_number)


class RailTransferStatus(models.TextChoices):
    REQUESTED = "requested", "Requested (not sent yet)"
    PENDING = "pending", "Pending settlement"
    SETTLED = "settled", "Settled"
    RETURNED = "returned", "Returned"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class RailTransferKind(models.TextChoices):
    AUTOPAY = "autopay", "Autopay"
    ONE_TIME = "one_time", "One-time payment"


class RailTransfer(models.Model):
    """One debit of the borrower's account through the payment rail.

    `autopay`: the debit of an installment due (at most one per installment), posted as a
    payment when it is debited and reversed (NSF) if the rail returns it. `one_time`: a
    payment the borrower asked for (portal or API): `requested` until close of business
    sends it (the borrower may cancel it until then), `pending` until the rail settles it;
    only then is it posted, dated the day it was requested. A borrower never moves money by
    declaring it.
    """

    Status = RailTransferStatus
    Kind = RailTransferKind

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.REQUESTED: (Status.PENDING, Status.CANCELLED, Status.FAILED),
        Status.PENDING: (Status.SETTLED, Status.RETURNED, Status.FAILED),
    }

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="rail_transfers")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.AUTOPAY)
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enrolment = models.ForeignKey(
        AutopayEnrolment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=12, choices=PaymentMethod.choices, default="ach")
    # One-time: the account (or debit card) the borrower gave, encrypted like autopay's.
    account_encrypted = models.TextField(blank=True)
    account_last4 = models.CharField(max_length=4, blank=True)
    routing_number_encrypted = models.TextField(blank=True)  # ACH only
    business_date = models.DateField()  # requested (one-time) or debited (autopay) on
    amount = _money()
    rail = models.CharField(max_length=64)
    rail_reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    settle_on = models.DateField(null=True, blank=True)
    return_code = models.CharField(max_length=8, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("rail_transfer_status_valid", "status", RailTransferStatus),
            _choices_check("rail_transfer_kind_valid", "kind", RailTransferKind),
            models.UniqueConstraint(
                fields=["installment"], name="rail_transfer_once_per_installment"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="autopay", installment__isnull=False, enrolment__isnull=False)
                    | (Q(kind="one_time") & ~Q(account_encrypted=""))
                ),
                name="rail_transfer_kind_fields",
            ),
        ]
        indexes = [models.Index(fields=["loan", "kind", "status"])]

    def __str__(self) -> str:
        return f"Transfer {self.pk} {self.amount} {self.status}"

    routing_number = crypto.encrypted_property("routing_number_encrypted")

    @property
    def routing_number_masked(self) -> str:
        return crypto.mask(self.routing_number)

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> LoanEvent:
        """The loan's timeline row of a change of this transfer (the one-time payment
        requests show in it; `lendcore.core.state.transition`)."""
        return LoanEvent(
            loan_id=self.loan_id,
            kind=EventKind.PAYMENT_REQUEST,
            from_status=from_status,
            to_status=to_status,
            reason=reason[:500],
            data={
                "payment_request": self.pk,
                "amount": str(self.amount),
                "method": self.method,
                "payment": self.payment_id,
                "return_code": self.return_code,
            },
            business_date=event_fields["business_date"],
            actor=actor,
        )
