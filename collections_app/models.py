"""Collection cases (one open per loan, opened and cured by close of business), their
history, and the round-robin position of each bucket's queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class CollectionCase(models.Model):
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
        indexes = [
            # the queue: open cases by priority, whole or by bucket or by assignee
            models.Index(fields=["status", "-priority", "id"], name="collections_case_queue"),
            models.Index(
                fields=["status", "bucket", "-priority", "id"], name="collections_case_bucket"
            ),
            models.Index(
                fields=["assignee", "status", "-priority", "id"], name="collections_case_mine"
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.status})"

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

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    business_date = models.DateField()
    at = models.DateTimeField()
    # opened: dpd, bucket; assigned: to; reassigned: from, to; bucket_changed: from, to, dpd
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
