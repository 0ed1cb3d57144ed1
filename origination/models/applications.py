"""Applications, their status events and the audit trail of actions that are not status
changes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from lendcore.core.external_ids import ExternalIdFields, external_id_unique
from lendcore.core.state import StatusEvent, can_transition, status_check
from origination.models._fields import money_field
from origination.models.applicants import Applicant
from origination.models.products import LoanProduct, ProductVersion


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    REFERRED = "referred", "Referred"
    OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
    DISBURSED = "disbursed", "Disbursed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


UPLOAD_OPEN_STATES = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.IN_REVIEW,
    ApplicationStatus.REFERRED,
    ApplicationStatus.APPROVED,
)


class Application(ExternalIdFields):
    Status = ApplicationStatus

    class Channel(models.TextChoices):
        PORTAL = "portal", "Portal"
        STAFF = "staff", "Staff"
        API = "api", "API"

    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="applications")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="+")
    product_version = models.ForeignKey(
        ProductVersion, on_delete=models.PROTECT, related_name="applications"
    )
    amount = money_field()
    term = models.PositiveIntegerField()
    frequency = models.CharField(max_length=20)
    purpose = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    status_reason = models.CharField(max_length=100, blank=True)
    # Where the loan is paid out: entered by the borrower, or by staff before the offer;
    # shown masked (last four) in the offer and the disbursement notice.
    disbursement_account_encrypted = models.TextField(blank=True, default="")
    disbursement_account_last4 = models.CharField(max_length=4, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loan = models.OneToOneField(
        "servicing.Loan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    S = Status
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        S.DRAFT: (S.SUBMITTED, S.WITHDRAWN, S.EXPIRED),
        S.SUBMITTED: (S.IN_REVIEW, S.WITHDRAWN, S.EXPIRED),
        S.IN_REVIEW: (S.APPROVED, S.DECLINED, S.REFERRED, S.WITHDRAWN, S.EXPIRED),
        S.REFERRED: (S.APPROVED, S.DECLINED, S.WITHDRAWN, S.EXPIRED),
        S.APPROVED: (S.OFFER_ACCEPTED, S.WITHDRAWN, S.EXPIRED),
        # back to approved: the disbursement account changed, the borrower accepts again
        S.OFFER_ACCEPTED: (S.DISBURSED, S.APPROVED, S.WITHDRAWN, S.EXPIRED),
        S.DECLINED: (),
        S.DISBURSED: (),
        S.WITHDRAWN: (),
        S.EXPIRED: (),
    }
    del S

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="orig_app_status_id_idx")]
        constraints = [
            external_id_unique("orig_application"),
            status_check(ApplicationStatus, name="orig_application_status_valid"),
            models.CheckConstraint(
                condition=models.Q(channel__in=["portal", "staff", "api"]),
                name="orig_application_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) & models.Q(term__gte=1),
                name="orig_application_amount_term_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(loan__isnull=True) | models.Q(status="disbursed"),
                name="orig_application_loan_only_disbursed",
            ),
        ]

    def __str__(self) -> str:
        return f"Application {self.pk} ({self.status})"

    def status_event(self, **event: Any) -> ApplicationEvent:
        return ApplicationEvent(application=self, **event)

    # --- predicates for UI guards (the services enforce the same rules) ---------------------

    def can_submit(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    def can_withdraw(self) -> bool:
        return can_transition(self, ApplicationStatus.WITHDRAWN)

    def can_underwrite(self) -> bool:
        """An underwriter may approve or decline (only a referred application)."""
        return self.status == ApplicationStatus.REFERRED

    def can_accept_offer(self) -> bool:
        return self.status == ApplicationStatus.APPROVED

    @property
    def disbursement_account_masked(self) -> str:
        return f"••••{self.disbursement_account_last4}" if self.disbursement_account_last4 else ""

    def can_disburse(self) -> bool:
        return self.status == ApplicationStatus.OFFER_ACCEPTED

    def accepts_documents(self) -> bool:
        """Documents may be uploaded or requested (until the offer is accepted)."""
        return self.status in UPLOAD_OPEN_STATES


class ApplicationEvent(StatusEvent):
    """One row per status change (who, when, from, to, reason)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_status} -> {self.to_status}"


class AuditEntry(models.Model):
    """Actions that are not status changes: SSN reveals, approvals toward four-eyes, reviews."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    applicant = models.ForeignKey(
        Applicant, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"
