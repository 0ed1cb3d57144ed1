"""Payments and how each was applied (to fees, interest, principal, credit)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from lendcore.core.external_ids import ExternalIdFields, external_id_unique

from ._fields import _choices_check, _money
from .ledger import JournalEntry
from .loans import EventKind, Loan, LoanEvent


class PaymentStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"


class PaymentMethod(models.TextChoices):
    ACH = "ach", "ACH"
    DEBIT_CARD = "debit_card", "Debit card"
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    WIRE = "wire", "Wire"


# What a borrower may pay with (through the payment rail); the rest is staff's to post.
BORROWER_METHODS = (PaymentMethod.ACH, PaymentMethod.DEBIT_CARD)


class Payment(ExternalIdFields):
    Status = PaymentStatus

    TRANSITIONS: dict[str, tuple[str, ...]] = {Status.POSTED: (Status.REVERSED,)}

    Method = PaymentMethod

    # no index of its own: the (loan, effective_date, id) index serves a lookup by loan
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    amount = _money()
    effective_date = models.DateField()
    method = models.CharField(max_length=12, choices=Method.choices)
    reference = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.POSTED)
    is_recovery = models.BooleanField(default=False)
    posted_on = models.DateField()  # the business date it was received
    # The live allocation (changes only when a replay re-applies the payment).
    alloc_fees = _money()
    alloc_interest = _money()
    alloc_principal = _money()
    alloc_excess = _money()  # principal prepayment + any credit balance beyond the payoff
    alloc_credit = _money()  # of the excess, what went to the borrower's credit balance
    reversal_reason = models.CharField(max_length=255, blank=True)
    nsf = models.BooleanField(default=False)
    reversed_on = models.DateField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            external_id_unique("payment"),
            _choices_check("payment_status_valid", "status", PaymentStatus),
            _choices_check("payment_method_valid", "method", PaymentMethod),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["loan", "effective_date", "id"]),
            # the day's payments (close of business's daily totals, the open day's report)
            models.Index(fields=["posted_on"], name="payment_posted_on"),
            # the payments report's "reversed since", read live over a year: the few reversed
            models.Index(
                fields=["posted_on"],
                condition=Q(status=PaymentStatus.REVERSED),
                name="payment_reversed_posted_on",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} {self.amount}"

    @property
    def allocation(self) -> dict[str, Decimal]:
        return {
            "fees": self.alloc_fees,
            "interest": self.alloc_interest,
            "principal": self.alloc_principal,
            "excess": self.alloc_excess,
        }

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> LoanEvent:
        """The loan's timeline row of a reversal (`lendcore.core.state.transition`)."""
        return LoanEvent(
            loan_id=self.loan_id,
            kind=EventKind.PAYMENT_REVERSED,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=event_fields.get("data") or {},
            business_date=event_fields["business_date"],
            actor=actor,
        )


class PaymentApplication(models.Model):
    """One application of a payment to the loan (a replay reverses it and applies anew)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="applications")
    # no index of its own: the (loan, reversed, effective_date) index serves a lookup by loan
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="+", db_index=False)
    effective_date = models.DateField()
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="application")
    fees = _money()
    # Of `fees`, what went to late fees (the no-pyramiding test of later late fees).
    late_fees = _money()
    interest = _money()
    principal = _money()
    excess = _money()
    credit = _money()
    # [{"installment": id, "interest": "..", "principal": "..", "cancelled": ".."},
    #  {"installment": id, "principal_due": ".."} (a true-up),
    #  {"fee_id": id, "amount": ".."}, {"schedule_from": id, "schedule_to": id}]
    detail = models.JSONField(default=list)
    reversed = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment"], condition=Q(reversed=False), name="payment_one_live_application"
            )
        ]
        indexes = [models.Index(fields=["loan", "reversed", "effective_date"])]

    def __str__(self) -> str:
        return f"Application {self.pk} of payment {self.payment_id}"


class CreditApplication(models.Model):
    """The borrower's credit balance applied to what the loan owes (a fee charged after a
    backdated payoff, say): Dr credit, Cr what it pays; a replay reverses it like a payment's
    application and applies the credit again at the end."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="credit_applications")
    effective_date = models.DateField()
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, related_name="credit_application"
    )
    amount = _money()
    fees = _money()
    interest = _money()
    principal = _money()
    detail = models.JSONField(default=list)  # as PaymentApplication.detail
    reversed = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["loan", "reversed", "effective_date"])]

    def __str__(self) -> str:
        return f"Credit applied {self.amount} on loan {self.loan_id}"
