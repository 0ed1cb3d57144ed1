"""Origination: products, applicants, applications, documents, checks, decisions, offers.

Stateful models carry a `Status` (TextChoices), a `TRANSITIONS` table, a check constraint on
the status values and an event table written by the one `transition()` helper in
`services.py`. Money is `DecimalField(max_digits=18, decimal_places=2)`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 8, "decimal_places": 4}  # percent a year, e.g. 9.9900


# --- products ----------------------------------------------------------------------------------


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
    min_amount = models.DecimalField(**MONEY)
    max_amount = models.DecimalField(**MONEY)
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
    base_rate = models.DecimalField(**RATE, default=Decimal("0"))
    pricing_tiers = models.JSONField(default=list, blank=True)
    origination_fee_basis = models.CharField(
        max_length=10, choices=FeeBasis.choices, default=FeeBasis.PERCENT
    )
    origination_fee_value = models.DecimalField(**RATE, default=Decimal("0"))
    origination_fee_timing = models.CharField(
        max_length=10, choices=FeeTiming.choices, default=FeeTiming.PREPAID
    )
    late_fee_basis = models.CharField(
        max_length=10, choices=FeeBasis.choices, default=FeeBasis.FLAT
    )
    late_fee_value = models.DecimalField(**MONEY, default=Decimal("0.00"))
    late_fee_grace_days = models.PositiveIntegerField(default=0)
    late_fee_cap = models.DecimalField(**MONEY, null=True, blank=True)
    nsf_fee = models.DecimalField(**MONEY, default=Decimal("0.00"))
    allocation_order = models.JSONField(default=list, blank=True)  # e.g. ["fees", "interest", ...]
    prepayment_option = models.CharField(
        max_length=12, choices=Prepayment.choices, default=Prepayment.REDUCE_TERM
    )
    required_document_types = models.JSONField(default=list, blank=True)
    four_eyes_limit = models.DecimalField(**MONEY, null=True, blank=True)
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


# --- applicants --------------------------------------------------------------------------------


class Applicant(models.Model):
    """A person applying. The SSN is stored encrypted (Fernet); reads show the last four only."""

    borrower = models.ForeignKey(
        "accounts.Borrower",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applicants",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    co_applicant = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    ssn_encrypted = models.TextField()
    ssn_last4 = models.CharField(max_length=4)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    employer = models.CharField(max_length=200, blank=True)
    months_employed = models.PositiveIntegerField(default=0)
    monthly_income = models.DecimalField(**MONEY)
    monthly_housing_payment = models.DecimalField(**MONEY, default=Decimal("0.00"))
    monthly_other_debts = models.DecimalField(**MONEY, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_income__gt=0), name="orig_applicant_income_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} (***-**-{self.ssn_last4})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# --- applications ------------------------------------------------------------------------------


class Application(models.Model):
    class Status(models.TextChoices):
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

    class Channel(models.TextChoices):
        PORTAL = "portal", "Portal"
        STAFF = "staff", "Staff"
        API = "api", "API"

    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="applications")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="+")
    product_version = models.ForeignKey(
        ProductVersion, on_delete=models.PROTECT, related_name="applications"
    )
    amount = models.DecimalField(**MONEY)
    term = models.PositiveIntegerField()
    frequency = models.CharField(max_length=20)
    purpose = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    status_reason = models.CharField(max_length=100, blank=True)
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
        S.OFFER_ACCEPTED: (S.DISBURSED, S.WITHDRAWN, S.EXPIRED),
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
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "in_review",
                        "approved",
                        "declined",
                        "referred",
                        "offer_accepted",
                        "disbursed",
                        "withdrawn",
                        "expired",
                    ]
                ),
                name="orig_application_status_valid",
            ),
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


class ApplicationEvent(models.Model):
    """One row per status change (who, when, from, to, reason)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

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


# --- documents ---------------------------------------------------------------------------------


class Document(models.Model):
    class DocType(models.TextChoices):
        ID_PROOF = "id_proof", "Proof of identity"
        PROOF_OF_INCOME = "proof_of_income", "Proof of income"
        BANK_STATEMENT = "bank_statement", "Bank statement"
        PROOF_OF_ADDRESS = "proof_of_address", "Proof of address"
        OTHER = "other", "Other"
        # Generated by LendCore, not uploaded.
        ADVERSE_ACTION_NOTICE = "adverse_action_notice", "Adverse action notice"
        TILA_DISCLOSURE = "tila_disclosure", "Truth in Lending disclosure"
        LOAN_AGREEMENT = "loan_agreement", "Loan agreement"

    UPLOAD_TYPES = ("id_proof", "proof_of_income", "bank_statement", "proof_of_address", "other")

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a newer upload"

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        "pending": ("accepted", "rejected", "superseded"),
        "accepted": ("rejected", "superseded"),
        "rejected": ("accepted", "superseded"),
        "superseded": (),
    }

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.CharField(max_length=30, choices=DocType.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    review_reason = models.CharField(max_length=500, blank=True)
    storage_name = models.CharField(max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "rejected", "superseded"]),
                name="orig_document_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(size__gt=0), name="orig_document_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_type} #{self.pk} ({self.status})"


class DocumentEvent(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"document {self.document_id}: {self.from_status} -> {self.to_status}"


# --- identity and bureau -----------------------------------------------------------------------


class IdentityCheck(models.Model):
    class Result(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        REVIEW = "review", "Review"

    applicant = models.ForeignKey(
        Applicant, on_delete=models.CASCADE, related_name="identity_checks"
    )
    provider = models.CharField(max_length=50)
    result = models.CharField(max_length=10, choices=Result.choices)
    raw = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(result__in=["pass", "fail", "review"]),
                name="orig_identity_result_valid",
            )
        ]

    def __str__(self) -> str:
        return f"identity {self.result} for applicant {self.applicant_id}"


class BureauReport(models.Model):
    """A credit report as pulled, raw payload included; reused for 30 days."""

    applicant = models.ForeignKey(
        Applicant, on_delete=models.CASCADE, related_name="bureau_reports"
    )
    bureau = models.CharField(max_length=50)
    has_file = models.BooleanField(default=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    score_model = models.CharField(max_length=50, blank=True)
    score_range_min = models.PositiveIntegerField(default=300)
    score_range_max = models.PositiveIntegerField(default=850)
    key_factors = models.JSONField(default=list, blank=True)
    monthly_debts = models.DecimalField(**MONEY, default=Decimal("0.00"))
    delinquencies_24m = models.PositiveIntegerField(default=0)
    inquiries_6m = models.PositiveIntegerField(default=0)
    bankruptcies = models.PositiveIntegerField(default=0)
    raw = models.JSONField(default=dict)
    pulled_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-pulled_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bureau} report for applicant {self.applicant_id} ({self.score})"


# --- rules and decisions -----------------------------------------------------------------------


class RuleSet(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        "draft": ("active",),
        "active": ("retired",),
        "retired": ("active",),
    }

    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="rule_sets")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["product_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="orig_ruleset_version_uq"),
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(status="active"),
                name="orig_ruleset_one_active_per_product",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "active", "retired"]),
                name="orig_ruleset_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} rules v{self.version} ({self.status})"


class RuleSetEvent(models.Model):
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"rule set {self.rule_set_id}: {self.from_status} -> {self.to_status}"


class Rule(models.Model):
    class Feature(models.TextChoices):
        SCORE = "score"
        DTI = "dti"
        MONTHLY_INCOME = "monthly_income"
        AMOUNT = "amount"
        TERM = "term"
        AGE = "age"
        DELINQUENCIES_24M = "delinquencies_24m"
        INQUIRIES_6M = "inquiries_6m"
        BANKRUPTCIES = "bankruptcies"
        MONTHS_EMPLOYED = "months_employed"
        LOAN_TO_INCOME = "loan_to_income"
        IDENTITY_RESULT = "identity_result"

    class Operator(models.TextChoices):
        LT = "lt", "<"
        LTE = "lte", "<="
        GT = "gt", ">"
        GTE = "gte", ">="
        EQ = "eq", "="
        NE = "ne", "!="
        MISSING = "missing", "is missing"

    class Outcome(models.TextChoices):
        DECLINE = "decline", "Decline"
        REFER = "refer", "Refer"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveIntegerField(default=0)
    feature = models.CharField(max_length=30, choices=Feature.choices)
    operator = models.CharField(max_length=10, choices=Operator.choices)
    threshold = models.CharField(max_length=50, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason_code = models.CharField(max_length=50)
    reason_text = models.CharField(max_length=300)

    class Meta:
        ordering = ["rule_set_id", "order", "id"]

    def __str__(self) -> str:
        return f"{self.feature} {self.operator} {self.threshold} -> {self.outcome}"


class Decision(models.Model):
    """An automated decision: enough (inputs, rule set version, trace) to reproduce it exactly."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approve"
        DECLINE = "decline", "Decline"
        REFER = "refer", "Refer"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="decisions")
    rule_set_version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    score = models.PositiveIntegerField(null=True, blank=True)
    dti = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    offered_rate = models.DecimalField(**RATE, null=True, blank=True)
    max_amount = models.DecimalField(**MONEY, null=True, blank=True)
    reasons = models.JSONField(default=list)  # [{code, text}], at most four for a decline
    rules = models.JSONField(default=list)  # the trace, one entry per rule
    inputs = models.JSONField(default=dict)
    bureau_report = models.ForeignKey(
        BureauReport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_check = models.ForeignKey(
        IdentityCheck, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=["approve", "decline", "refer"]),
                name="orig_decision_outcome_valid",
            )
        ]

    def __str__(self) -> str:
        return f"decision {self.outcome} for application {self.application_id}"


class UnderwriterAction(models.Model):
    """An underwriter's approval (maybe a counter-offer) or decline of a referred application."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "Approve"
        DECLINE = "decline", "Decline"

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="underwriter_actions"
    )
    underwriter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    annual_rate = models.DecimalField(**RATE, null=True, blank=True)
    term = models.PositiveIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.underwriter_id} on {self.application_id}"


# --- offers ------------------------------------------------------------------------------------


class Offer(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        "open": ("accepted", "expired", "withdrawn"),
        "accepted": ("withdrawn", "expired"),
        "expired": (),
        "withdrawn": (),
    }

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="offer")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(**MONEY)
    annual_rate = models.DecimalField(**RATE)
    term = models.PositiveIntegerField()
    frequency = models.CharField(max_length=20)
    payment = models.DecimalField(**MONEY)
    apr = models.DecimalField(max_digits=9, decimal_places=2)
    apr_exact = models.DecimalField(max_digits=14, decimal_places=6)
    finance_charge = models.DecimalField(**MONEY)
    amount_financed = models.DecimalField(**MONEY)
    total_of_payments = models.DecimalField(**MONEY)
    origination_fee = models.DecimalField(**MONEY, default=Decimal("0.00"))
    note_principal = models.DecimalField(**MONEY)
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
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "accepted", "expired", "withdrawn"]),
                name="orig_offer_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | ~models.Q(status="accepted")
                | (models.Q(accepted_at__isnull=False) & ~models.Q(signature_name="")),
                name="orig_offer_accepted_signed",
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.amount} @ {self.annual_rate}% for application {self.application_id}"


class OfferEvent(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"offer {self.offer_id}: {self.from_status} -> {self.to_status}"
