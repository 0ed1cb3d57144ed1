"""Collection cases (one open per loan, opened and cured by close of business), their
history, and the round-robin position of each bucket's queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lendcore.core.external_ids import ExternalIdFields, external_id_unique


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class CollectionCase(ExternalIdFields):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CURED = "cured", "Cured"  # the loan is current again
        CLOSED = "closed", "Closed"  # the loan left servicing (paid off, charged off)

    loan = models.ForeignKey(
        "servicing.Loan", on_delete=models.PROTECT, related_name="collection_cases"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()  # the business date close of business opened it
    closed_on = models.DateField(null=True, blank=True)
    bucket = models.CharField(max_length=16)  # the loan's delinquency bucket, kept in step
    # the loan's product (it never changes): the queue filters by it without joining the loans
    product_code = models.CharField(max_length=64, blank=True, default="")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="collection_cases",
    )
    # amount past due x days past due (collections_app.priority); the queue's order
    priority = models.DecimalField(max_digits=24, decimal_places=2, default=0)
    amount_past_due = _money(default=0)
    dpd = models.PositiveIntegerField(default=0)
    # the loan's status when a case closed without a cure (paid_off, charged_off)
    outcome = models.CharField(max_length=32, blank=True, default="")
    # the last business date close of business brought the case up to date
    reviewed_on = models.DateField()
    # the next contact a collector scheduled (collections_app.services.follow_up)
    follow_up_at = models.DateTimeField(null=True, blank=True)
    follow_up_channel = models.CharField(max_length=16, blank=True, default="")
    follow_up_note = models.CharField(max_length=500, blank=True, default="")
    # the borrower disputes the debt: dunning pauses until a collector resolves it
    disputed = models.BooleanField(default=False)
    disputed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            external_id_unique("collection_case"),
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="open"),
                name="collections_one_open_case_per_loan",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "cured", "closed"]),
                name="collections_case_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | (~Q(status="open") & Q(closed_on__isnull=False)),
                name="collections_case_closed_on_iff_not_open",
            ),
        ]
        # No index holds priority, days past due, bucket or the amount past due: close of
        # business rewrites them on every open case each night, and with none of them indexed
        # (and half-empty pages, migration 0007) that rewrite is a HOT update that touches no
        # index. The queue sorts a filter's cases by priority when read instead, the case
        # table alone (a bounded top-N sort; `selectors.case_list` reads the loans after).

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.status})"

    def save(self, *args, **kwargs):
        if not self.product_code and self.loan_id is not None:
            self.product_code = self.loan.product_code
        super().save(*args, **kwargs)

    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CaseEvent(models.Model):
    """A line of a case's history. `actor` is null for close of business."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        ASSIGNED = "assigned", "Assigned"
        REASSIGNED = "reassigned", "Reassigned"
        BUCKET_CHANGED = "bucket_changed", "Bucket changed"
        CURED = "cured", "Cured"
        CLOSED = "closed", "Closed"
        CONTACT = "contact", "Contact logged"
        FOLLOW_UP = "follow_up", "Follow-up scheduled"
        PROMISE = "promise", "Promise to pay recorded"
        PROMISE_KEPT = "promise_kept", "Promise kept"
        PROMISE_BROKEN = "promise_broken", "Promise broken"
        DISPUTE_OPENED = "dispute_opened", "Dispute opened"
        DISPUTE_RESOLVED = "dispute_resolved", "Dispute resolved"
        PAYMENT = "payment", "Payment taken by phone"
        DUNNING = "dunning", "Dunning notice"
        # workouts: hardship plans (status changes carry the plan's id), charge-off
        HARDSHIP = "hardship", "Hardship plan"
        CHARGE_OFF_CANDIDATE = "charge_off_candidate", "Charge-off candidate"
        CHARGE_OFF = "charge_off", "Charge-off recommendation"
        RECOVERY = "recovery", "Recovery"
        PLACED = "placed", "Placed with an agency"

    # Indexed by (case, at, id) below, which serves a lookup by case alone.
    case = models.ForeignKey(
        CollectionCase, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    business_date = models.DateField()
    at = models.DateTimeField()
    # opened: dpd, bucket; assigned: to; reassigned: from, to; bucket_changed: from, to, dpd;
    # hardship: plan, from, to (status), reason; charge_off: recommendation, from, to, reason;
    # charge_off_candidate: dpd; recovery: from, to (amount recovered); placed: agency
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "at", "id"], name="collections_event_case")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.business_date})"


class QueueCursor(models.Model):
    """Round-robin position of a bucket's queue: the collector who got its last new case."""

    bucket = models.CharField(max_length=16, unique=True)
    last_assignee_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.last_assignee_id}"


# --------------------------------------------------------------------------- the workspace
# (issue 11, slice 2: contact preferences, contacts, follow-ups, promises, disputes, dunning)


class ContactPreference(models.Model):
    """How a borrower may be reached, set by the borrower in the portal and shown to
    collectors. The e-mail and SMS opt-outs are the borrower's own fields
    (`accounts.Borrower.email_opt_out`/`sms_opt_out`, which servicing's reminders already
    honour): this row holds the rest. No row: the default time zone, nothing opted out."""

    borrower = models.OneToOneField(
        "accounts.Borrower", on_delete=models.CASCADE, related_name="contact_preference"
    )
    time_zone = models.CharField(max_length=64)  # IANA, validated by the service
    call_opt_out = models.BooleanField(default=False)
    letter_opt_out = models.BooleanField(default=False)
    # FDCPA 805(c): in writing, stop all contact but the required notices
    cease_communication = models.BooleanField(default=False)
    cease_communication_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cease_communication=False) | Q(cease_communication_on__isnull=False),
                name="collections_pref_cease_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"Contact preferences of borrower {self.borrower_id}"


class ContactChannel(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    LETTER = "letter", "Letter"
    VISIT = "visit", "Visit"


class Contact(models.Model):
    """One contact (or attempt) with the borrower, logged by a collector."""

    Channel = ContactChannel

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Outcome(models.TextChoices):
        PROMISE_TO_PAY = "promise_to_pay", "Promise to pay"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left message"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        REFUSED = "refused", "Refused to pay"
        DISPUTE = "dispute", "Disputes the debt"
        PAID = "paid", "Paid"
        HARDSHIP_REQUEST = "hardship_request", "Hardship request"

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="contacts")
    # the case's loan, copied: the 7-calls-in-7-days count is per loan, over its cases
    loan = models.ForeignKey("servicing.Loan", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    notes = models.TextField(blank=True, default="")
    at = models.DateTimeField()  # when the contact happened
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=ContactChannel.values), name="collections_contact_channel"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=["inbound", "outbound"]),
                name="collections_contact_direction",
            ),
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "promise_to_pay",
                        "no_answer",
                        "left_message",
                        "wrong_number",
                        "refused",
                        "dispute",
                        "paid",
                        "hardship_request",
                    ]
                ),
                name="collections_contact_outcome",
            ),
        ]
        indexes = [
            models.Index(
                fields=["loan", "channel", "direction", "at"], name="collections_contact_cap"
            ),
            models.Index(fields=["case", "at", "id"], name="collections_contact_case"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel}: {self.outcome}"


class PromiseToPay(models.Model):
    """One instalment of a promise to pay. A promise of several instalments is several rows
    sharing `promise_key`, numbered by `sequence`. Close of business settles each after its
    due date: kept when the payments from `promised_on` to its due date reach the promise's
    instalments so far (this one and the earlier ones)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="promises")
    loan = models.ForeignKey("servicing.Loan", on_delete=models.PROTECT, related_name="+")
    promise_key = models.CharField(max_length=36)  # a uuid shared by the instalments
    sequence = models.PositiveSmallIntegerField(default=1)
    amount = _money()
    due_date = models.DateField()
    promised_on = models.DateField()  # the business date it was recorded
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    kept_amount = _money(default=0)
    settled_on = models.DateField(null=True, blank=True)  # the close that marked it
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="collections_promise_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "kept", "broken"]),
                name="collections_promise_status",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("promised_on")),
                name="collections_promise_not_past",
            ),
            models.UniqueConstraint(
                fields=["promise_key", "sequence"], name="collections_promise_instalment"
            ),
        ]
        indexes = [
            models.Index(fields=["loan", "status", "due_date"], name="collections_promise_due"),
            models.Index(fields=["case", "due_date", "id"], name="collections_promise_case"),
        ]

    def __str__(self) -> str:
        return f"Promise {self.amount} by {self.due_date} ({self.status})"


class DunningTemplate(models.Model):
    """The text of a dunning message (Django template syntax; context: borrower, loan, case,
    amount_past_due, dpd, business_date). Edited in the admin."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200, help_text="E-mail subject or letter title")
    body = models.TextField(help_text="Django template syntax; an SMS sends the first 320 chars")

    def __str__(self) -> str:
        return self.name


class DunningRule(models.Model):
    """When close of business sends a template: on the days past due from `dpd_from` (to
    `dpd_to`, every `cadence_days`; no `dpd_to`: that day only), on one channel, for every
    loan or only a product's or a bucket's."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        LETTER = "letter", "Letter"

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    template = models.ForeignKey(DunningTemplate, on_delete=models.PROTECT, related_name="rules")
    dpd_from = models.PositiveIntegerField()
    dpd_to = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: that day only")
    cadence_days = models.PositiveIntegerField(
        default=0, help_text="Repeat every N days from dpd_from up to dpd_to (0: once)"
    )
    product_code = models.CharField(max_length=64, blank=True, help_text="Empty: every product")
    bucket = models.CharField(max_length=16, blank=True, help_text="Empty: every bucket")
    required_notice = models.BooleanField(
        default=False,
        help_text="A notice the law requires: sent even after a cease-communication request",
    )
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms", "letter"]),
                name="collections_dunning_channel",
            ),
            models.CheckConstraint(condition=Q(dpd_from__gte=1), name="collections_dunning_from"),
            models.CheckConstraint(
                condition=Q(dpd_to__isnull=True) | Q(dpd_to__gte=models.F("dpd_from")),
                name="collections_dunning_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DunningNotice(models.Model):
    """What close of business did for a rule, a loan and a day: queued then sent (or failed),
    or skipped with the reason (dispute, cease-communication, opt-out, no address)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    loan = models.ForeignKey("servicing.Loan", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        CollectionCase, on_delete=models.CASCADE, related_name="dunning_notices"
    )
    rule = models.ForeignKey(DunningRule, on_delete=models.PROTECT, related_name="notices")
    business_date = models.DateField()
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.CharField(max_length=32, blank=True, default="")
    recipient = models.CharField(max_length=254, blank=True, default="")
    document = models.CharField(max_length=255, blank=True, default="")  # the letter's PDF
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "rule", "business_date"], name="collections_dunning_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sent", "failed", "skipped"]),
                name="collections_dunning_status",
            ),
        ]
        indexes = [models.Index(fields=["case", "business_date"], name="collections_notice_case")]

    def __str__(self) -> str:
        return f"{self.channel} {self.business_date} ({self.status})"


class HardshipPlan(models.Model):
    """A borrower's hardship plan: requested (portal or collector), approved by a manager who
    is not the requester, applied through servicing's modification (the loan cures), and
    ended by close of business: completed after its months, or broken when the loan falls
    behind again (`collections_app.workouts`)."""

    class Kind(models.TextChoices):
        PAYMENT_REDUCTION = "payment_reduction", "Payment reduction (interest only) for N months"
        DEFERRAL = "deferral", "Deferral of N installments"
        TERM_EXTENSION = "term_extension", "Term extension by N months"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACTIVE = "active", "Active"
        REJECTED = "rejected", "Rejected"
        COMPLETED = "completed", "Completed"
        BROKEN = "broken", "Broken"

    class Channel(models.TextChoices):
        PORTAL = "portal", "Portal"  # the same choices as an application's channel (one enum)
        STAFF = "staff", "Staff"
        API = "api", "API"

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.REQUESTED: (Status.ACTIVE, Status.REJECTED),
        Status.ACTIVE: (Status.COMPLETED, Status.BROKEN),
    }
    OPEN_STATUSES = (Status.REQUESTED, Status.ACTIVE)

    loan = models.ForeignKey(
        "servicing.Loan", on_delete=models.PROTECT, related_name="hardship_plans"
    )
    case = models.ForeignKey(
        CollectionCase, on_delete=models.PROTECT, related_name="hardship_plans"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    months = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.STAFF)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_on = models.DateField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True, default="")
    # servicing's modification that applied it
    modification_id = models.BigIntegerField(null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)  # completed at this close if kept
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status__in=["requested", "active"]),
                name="collections_one_open_plan_per_loan",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "active", "rejected", "completed", "broken"]),
                name="collections_plan_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["payment_reduction", "deferral", "term_extension"]),
                name="collections_plan_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(months__gte=1) & Q(months__lte=12), name="collections_plan_months"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "loan"], name="collections_plan_status"),
        ]

    def __str__(self) -> str:
        return f"Hardship plan {self.pk} ({self.kind}, {self.status})"

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> CaseEvent:
        """The case's history row of a change (`lendcore.core.state.transition`)."""
        return CaseEvent(
            case_id=self.case_id,
            kind=CaseEvent.Kind.HARDSHIP,
            actor=actor,
            business_date=event_fields["business_date"],
            at=timezone.now(),
            data={"plan": self.pk, "from": from_status, "to": to_status, "reason": reason},
        )


class ChargeOffRecommendation(models.Model):
    """A collector's recommendation to charge a case's loan off: it is servicing's charge-off
    request (`ChargeOff`, requested by the collector), and a manager who is not the
    collector approves it (servicing posts the charge-off) or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.PENDING: (Status.APPROVED, Status.REJECTED),
    }

    case = models.ForeignKey(
        CollectionCase, on_delete=models.PROTECT, related_name="charge_off_recommendations"
    )
    loan = models.ForeignKey(
        "servicing.Loan", on_delete=models.PROTECT, related_name="charge_off_recommendations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=255)
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recommended_on = models.DateField()
    dpd = models.PositiveIntegerField(default=0)  # at the recommendation
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=255, blank=True, default="")
    # servicing's charge-off request (servicing.ChargeOff) it stands for
    charge_off_id = models.BigIntegerField(null=True, blank=True)
    charged_off = _money(default=0)  # what servicing wrote off
    recovered = _money(default=0)  # recoveries since, as of the last close of business
    placed_on = models.DateField(null=True, blank=True)  # placement file with an agency
    agency = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="pending"),
                name="collections_one_pending_recommendation",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="collections_recommendation_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "id"], name="collections_reco_status")]

    def __str__(self) -> str:
        return f"Charge-off recommendation {self.pk} ({self.status})"

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> CaseEvent:
        return CaseEvent(
            case_id=self.case_id,
            kind=CaseEvent.Kind.CHARGE_OFF,
            actor=actor,
            business_date=event_fields["business_date"],
            at=timezone.now(),
            data={
                "recommendation": self.pk,
                "from": from_status,
                "to": to_status,
                "reason": reason,
            },
        )
