"""The loan account, its status machine, its audit trail and the business date."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from lendcore.accounts.models import Borrower
from lendcore.core.external_ids import ExternalIdFields, external_id_unique

from ._fields import ZERO, _choices_check, _exact, _money


class BusinessDate(models.Model):
    """The lender's "today" for the books: a single row (id 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    business_date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="business_date_single_row")]

    def __str__(self) -> str:
        return f"Business date {self.business_date}"


class LoanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAID_OFF = "paid_off", "Paid off"
    CHARGED_OFF = "charged_off", "Charged off"


class InterestModel(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DAILY_SIMPLE = "daily_simple", "Daily simple"


class PrepaymentOption(models.TextChoices):
    REDUCE_TERM = "reduce_term", "Reduce term"
    REAMORTIZE = "reamortize", "Re-amortize"


class Loan(ExternalIdFields):
    Status = LoanStatus

    # from -> allowed targets. paid_off -> active: a reversed payoff payment reopens the loan;
    # charged_off -> active: an approved undo of the charge-off.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.ACTIVE: (Status.PAID_OFF, Status.CHARGED_OFF),
        Status.PAID_OFF: (Status.ACTIVE,),
        Status.CHARGED_OFF: (Status.ACTIVE,),
    }

    InterestModel = InterestModel

    PrepaymentOption = PrepaymentOption

    loan_number = models.CharField(max_length=20, unique=True)
    application_ref = models.CharField(max_length=64, unique=True)
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="loans")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    # Terms snapshot, copied from the product at boarding.
    product_code = models.CharField(max_length=64)
    product_name = models.CharField(max_length=200, blank=True)
    product_version = models.PositiveIntegerField(default=1)
    currency = models.CharField(max_length=3, default="USD")
    principal_amount = _money()
    annual_rate = models.DecimalField(max_digits=14, decimal_places=10)  # 0.068 = 6.8 %
    annual_rate_pct = models.DecimalField(max_digits=9, decimal_places=4)
    apr = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    n_periods = models.PositiveIntegerField()
    frequency = models.CharField(max_length=16)
    day_count = models.CharField(max_length=16)
    amortization = models.CharField(max_length=20, default="level")
    interest_method = models.CharField(max_length=16, default="declining")
    first_due_date = models.DateField()
    maturity_date = models.DateField()
    terms = models.JSONField(default=dict)  # the LoanTerms snapshot (strings)
    interest_model = models.CharField(max_length=16, choices=InterestModel.choices)
    origination_fee = _money()
    origination_fee_kind = models.CharField(max_length=16, default="prepaid")
    late_fee_kind = models.CharField(max_length=16, default="flat")
    late_fee_amount = models.DecimalField(max_digits=18, decimal_places=4, default=ZERO)
    late_fee_grace_days = models.PositiveIntegerField(default=0)
    late_fee_cap = _money(null=True, default=None, blank=True)
    nsf_fee = _money()
    allocation_order = models.JSONField(default=list)
    prepayment_option = models.CharField(
        max_length=16, choices=PrepaymentOption.choices, default=PrepaymentOption.REDUCE_TERM
    )

    disbursed_on = models.DateField()
    disbursement_method = models.CharField(max_length=32, blank=True)
    disbursement_reference = models.CharField(max_length=128, blank=True)

    delinquent = models.BooleanField(default=False)
    in_hardship = models.BooleanField(default=False)
    non_accrual = models.BooleanField(default=False)

    # Cached balances: kept by the ledger writer, proved by `ledger_check`.
    principal_balance = _money()
    interest_balance = _money()
    fees_balance = _money()
    credit_balance = _money()
    # Interest recognition: the exact cumulative accrual and what has been posted of it.
    accrued_interest_exact = _exact()
    accrued_interest_posted = _money()
    last_accrual_date = models.DateField()
    last_closed_on = models.DateField(null=True, blank=True)
    # Earliest installment not fully paid (dpd = business date - this, when past).
    oldest_unpaid_due_date = models.DateField(null=True, blank=True)
    # As of the last close of business: days past due and delinquency bucket (servicing.cob).
    dpd = models.PositiveIntegerField(default=0)
    delinquency_bucket = models.CharField(max_length=16, default="current")
    charged_off_on = models.DateField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            external_id_unique("loan"),
            _choices_check("loan_status_valid", "status", LoanStatus),
            _choices_check("loan_interest_model_valid", "interest_model", InterestModel),
            _choices_check("loan_prepayment_option_valid", "prepayment_option", PrepaymentOption),
            models.CheckConstraint(
                condition=Q(principal_balance__gte=0)
                & Q(interest_balance__gte=0)
                & Q(fees_balance__gte=0)
                & Q(credit_balance__gte=0),
                name="loan_balances_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "id"]),
            models.Index(fields=["product_code"]),
            models.Index(fields=["oldest_unpaid_due_date"]),
            # Close of business (collections) finds a scope's late loans by id range and
            # oldest unpaid due date from the index alone, not from 10,000 wide loan rows.
            models.Index(fields=["id", "oldest_unpaid_due_date"], name="loan_id_oldest_unpaid"),
            # Close of business trues up the (few) active loans past maturity each night.
            models.Index(
                fields=["maturity_date"],
                condition=Q(status="active"),
                name="loan_active_maturity",
            ),
        ]

    def __str__(self) -> str:
        return self.loan_number

    @property
    def total_due(self) -> Decimal:
        """Everything owed now: principal, interest and fees, less any credit."""
        return self.principal_balance + self.interest_balance + self.fees_balance

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.ACTIVE

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> LoanEvent:
        """The timeline row of a status change (`lendcore.core.state.transition`)."""
        return LoanEvent(
            loan=self,
            kind=EventKind.STATUS,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=event_fields.get("data") or {},
            business_date=event_fields["business_date"],
            actor=actor,
        )


class EventKind(models.TextChoices):
    BOARDED = "boarded", "Boarded"
    STATUS = "status", "Status change"
    PAYMENT = "payment", "Payment posted"
    PAYMENT_REVERSED = "payment_reversed", "Payment reversed"
    REPLAY = "replay", "Transactions replayed"
    FEE = "fee", "Fee assessed"
    FEE_WAIVED = "fee_waived", "Fee waived"
    FEE_REVERSED = "fee_reversed", "Fee reversed"
    PAYMENT_REQUEST = "payment_request", "Payment request"
    MODIFICATION = "modification", "Modification"
    CHARGE_OFF = "charge_off", "Charge-off"
    REFUND = "refund", "Credit refunded"
    STATEMENT = "statement", "Statement"
    FLAG = "flag", "Flag changed"
    AUTOPAY = "autopay", "Autopay"


class LoanEvent(models.Model):
    """The loan's audit trail: status transitions and every servicing action (timeline)."""

    Kind = EventKind

    # Indexed by (loan, id) below, which serves a lookup by loan alone. No database foreign key
    # (close of business writes thousands of these a partition, each checked at its COMMIT):
    # loans are never deleted (PROTECT) and `ledger_check` finds an event whose loan is missing.
    loan = models.ForeignKey(
        Loan,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    business_date = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["loan", "id"])]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind}"
