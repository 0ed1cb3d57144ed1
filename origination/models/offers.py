"""Offers made on approval and their status events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

from lendcore.core.state import StatusEvent, status_check
from origination.models._fields import money_field, rate_field
from origination.models.applications import Application


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Offer(models.Model):
    Status = OfferStatus

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        "open": ("accepted", "expired", "withdrawn"),
        # reopened when the disbursement account changes after acceptance
        "accepted": ("open", "withdrawn", "expired"),
        "expired": (),
        "withdrawn": (),
    }

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="offer")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    amount = money_field()
    annual_rate = rate_field()
    term = models.PositiveIntegerField()
    frequency = models.CharField(max_length=20)
    payment = money_field()
    apr = models.DecimalField(max_digits=9, decimal_places=2)
    apr_exact = models.DecimalField(max_digits=14, decimal_places=6)
    finance_charge = money_field()
    amount_financed = money_field()
    total_of_payments = money_field()
    origination_fee = money_field(default=Decimal("0.00"))
    note_principal = money_field()
    disbursement_date = models.DateField()
    first_due_date = models.DateField()
    installments = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signature_name = models.CharField(max_length=200, blank=True)
    signature_ip = models.GenericIPAddressField(null=True, blank=True)
    accepted_on_behalf = models.BooleanField(default=False)

    class Meta:
        constraints = [
            status_check(OfferStatus, name="orig_offer_status_valid"),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | ~models.Q(status="accepted")
                | (models.Q(accepted_at__isnull=False) & ~models.Q(signature_name="")),
                name="orig_offer_accepted_signed",
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.amount} @ {self.annual_rate}% for application {self.application_id}"

    def status_event(self, **event: Any) -> OfferEvent:
        return OfferEvent(offer=self, **event)

    def is_open(self) -> bool:
        return self.status == OfferStatus.OPEN


class OfferEvent(StatusEvent):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")

    def __str__(self) -> str:
        return f"offer {self.offer_id}: {self.from_status} -> {self.to_status}"
