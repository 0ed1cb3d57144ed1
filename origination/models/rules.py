"""Rule sets, their rules, the decisions they make and underwriters' actions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from lendcore.core.state import StatusEvent, can_transition, status_check
from origination.models._fields import money_field, rate_field
from origination.models.applications import Application
from origination.models.checks import BureauReport, IdentityCheck
from origination.models.products import LoanProduct


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class RuleSet(models.Model):
    Status = RuleSetStatus

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
            status_check(RuleSetStatus, name="orig_ruleset_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} rules v{self.version} ({self.status})"

    def status_event(self, **event: Any) -> RuleSetEvent:
        return RuleSetEvent(rule_set=self, **event)

    def can_activate(self) -> bool:
        return can_transition(self, RuleSetStatus.ACTIVE)


class RuleSetEvent(StatusEvent):
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="events")

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
    offered_rate = rate_field(null=True, blank=True)
    max_amount = money_field(null=True, blank=True)
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
    amount = money_field(null=True, blank=True)
    annual_rate = rate_field(null=True, blank=True)
    term = models.PositiveIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.underwriter_id} on {self.application_id}"
