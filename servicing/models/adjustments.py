"""Charge-offs and loan modifications (each a status machine)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from ._fields import _choices_check, _money
from .ledger import JournalEntry
from .loans import EventKind, Loan, LoanEvent
from .schedule import ScheduleVersion


class ChargeOffStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    UNDONE = "undone", "Undone"


class ChargeOff(models.Model):
    """A charge-off request; four-eyes: approved by someone other than the requester."""

    Status = ChargeOffStatus

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.REQUESTED: (Status.APPROVED, Status.REJECTED),
        Status.APPROVED: (Status.UNDONE,),
    }

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="charge_offs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    principal = _money()
    interest = _money()
    fees = _money()
    effective_date = models.DateField(null=True, blank=True)
    entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="charge_off"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("charge_off_status_valid", "status", ChargeOffStatus),
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status__in=["requested", "approved"]),
                name="charge_off_one_open_per_loan",
            ),
        ]

    def __str__(self) -> str:
        return f"Charge-off {self.pk} of loan {self.loan_id} ({self.status})"

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> LoanEvent:
        """The loan's timeline row of a decision (`lendcore.core.state.transition`); like the
        request's row, it carries the charge-off's id and new status in `data`."""
        return LoanEvent(
            loan_id=self.loan_id,
            kind=EventKind.CHARGE_OFF,
            reason=reason,
            data={"charge_off": self.pk, "status": to_status},
            business_date=event_fields["business_date"],
            actor=actor,
        )


class ModificationStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"


class Modification(models.Model):
    Status = ModificationStatus

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.PENDING: (Status.APPLIED, Status.REJECTED),
    }

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="modifications")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    annual_rate = models.DecimalField(max_digits=14, decimal_places=10, null=True, blank=True)
    remaining_term = models.PositiveIntegerField(null=True, blank=True)
    due_day = models.PositiveSmallIntegerField(null=True, blank=True)
    defer_installments = models.PositiveSmallIntegerField(default=0)
    # The first installments of the new schedule bill interest only (a payment reduction).
    interest_only_installments = models.PositiveSmallIntegerField(default=0)
    reason = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_schedule = models.ForeignKey(
        ScheduleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_schedule = models.ForeignKey(
        ScheduleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [_choices_check("modification_status_valid", "status", ModificationStatus)]

    def __str__(self) -> str:
        return f"Modification {self.pk} of loan {self.loan_id} ({self.status})"

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> LoanEvent:
        """The loan's timeline row of a decision (`lendcore.core.state.transition`); like the
        request's row, it carries the modification's id and new status in `data`."""
        return LoanEvent(
            loan_id=self.loan_id,
            kind=EventKind.MODIFICATION,
            reason=reason,
            data={"modification": self.pk, "status": to_status},
            business_date=event_fields["business_date"],
            actor=actor,
        )
