"""Invitations that link an application made by staff to an existing borrower.

Staff never link an existing borrower directly: they invite, the invitation is e-mailed to
the borrower's own verified address (never one typed by staff) and the borrower accepts or
declines it in the portal. Only the SHA-256 of the token is stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from lendcore.core.state import StatusEvent, status_check
from origination.models.applicants import Applicant


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


class BorrowerInvitation(models.Model):
    Status = InvitationStatus

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        "pending": ("accepted", "declined", "expired"),
        "accepted": (),
        "declined": (),
        "expired": (),
    }

    applicant = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="invitations")
    borrower = models.ForeignKey(
        "accounts.Borrower", on_delete=models.PROTECT, related_name="invitations"
    )
    # Where it was sent: the borrower's verified address at the time.
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_check(InvitationStatus, name="orig_invitation_status_valid"),
            models.UniqueConstraint(
                fields=["applicant"],
                condition=models.Q(status="pending"),
                name="orig_invitation_one_pending_per_applicant",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} of borrower {self.borrower_id} ({self.status})"

    def status_event(self, **event: Any) -> BorrowerInvitationEvent:
        return BorrowerInvitationEvent(invitation=self, **event)

    def is_pending(self) -> bool:
        return self.status == InvitationStatus.PENDING


class BorrowerInvitationEvent(StatusEvent):
    invitation = models.ForeignKey(
        BorrowerInvitation, on_delete=models.CASCADE, related_name="events"
    )

    def __str__(self) -> str:
        return f"invitation {self.invitation_id}: {self.from_status} -> {self.to_status}"
