"""Servicing: loan accounts, versioned schedules, an immutable double-entry ledger, payments.

Money is `DecimalField(18, 2)`; accrued interest carries 6 places until it is posted. The
ledger (`JournalEntry` + `JournalLine`) is written by one function only
(`servicing.ledger.journal_post_many`) and is never updated or deleted: the models refuse
it in Python and, on PostgreSQL, triggers refuse it in the database (migration 0001).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from lendcore.accounts.models import Borrower

ZERO = Decimal("0.00")


def _money(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _exact(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0.000000"))
    return models.DecimalField(max_digits=24, decimal_places=6, **kwargs)


def _choices_check(
    name: str, field: str, choices: type[models.TextChoices]
) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


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


class Loan(models.Model):
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


class LoanEvent(models.Model):
    """The loan's audit trail: status transitions and every servicing action (timeline)."""

    Kind = EventKind

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="events")
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


class ScheduleVersion(models.Model):
    """A loan's schedule; a modification or re-amortization adds a version, keeping the old."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="schedule_versions")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    reason = models.CharField(max_length=200, blank=True)
    effective_date = models.DateField()
    regular_payment = _money()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "version"], name="schedule_version_unique"),
            models.UniqueConstraint(
                fields=["loan"], condition=Q(is_current=True), name="schedule_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} v{self.version}"


class InstallmentStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    DUE = "due", "Due"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"


class Installment(models.Model):
    Status = InstallmentStatus

    schedule = models.ForeignKey(
        ScheduleVersion, on_delete=models.PROTECT, related_name="installments"
    )
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveIntegerField()
    due_date = models.DateField()
    principal_due = _money()
    interest_due = _money()
    fee_due = _money()
    principal_paid = _money()
    interest_paid = _money()
    fee_paid = _money()
    # Dues that will never be collected: a prepayment shortened the term, or the loan was paid
    # off while the (estimated) installment split still showed something due.
    cancelled = _money()
    # How much of principal_due / interest_due a true-up added (or, negative, took away) to
    # what the schedule said: the final installment bills the loan's actual balance, and a
    # payment split differently from the schedule moves principal between installments
    # (servicing.calculations). interest_due - interest_true_up is the scheduled interest.
    principal_true_up = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    interest_true_up = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPCOMING)
    # The effective date of the payment (or credit) that completed it.
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["schedule_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="installment_unique"),
            _choices_check("installment_status_valid", "status", InstallmentStatus),
            models.CheckConstraint(
                condition=Q(principal_paid__gte=0)
                & Q(interest_paid__gte=0)
                & Q(fee_paid__gte=0)
                & Q(principal_paid__lte=F("principal_due"))
                & Q(interest_paid__lte=F("interest_due"))
                & Q(fee_paid__lte=F("fee_due")),
                name="installment_paid_within_due",
            ),
        ]
        indexes = [
            models.Index(fields=["loan", "due_date"]),
            # Close of business looks for the unpaid installments of a range of loans (falling
            # due, out of grace, late fees, reminders); paid ones, most rows, stay out of it.
            models.Index(
                fields=["loan", "due_date"],
                condition=~Q(status="paid"),
                name="installment_unpaid_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} #{self.number} {self.due_date}"

    @property
    def total_due(self) -> Decimal:
        return self.principal_due + self.interest_due + self.fee_due

    @property
    def total_paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid + self.fee_paid

    @property
    def remaining(self) -> Decimal:
        return self.total_due - self.total_paid - self.cancelled

    @property
    def true_up(self) -> Decimal:
        """What true-ups added to (or took from) the schedule's amount of this installment."""
        return self.principal_true_up + self.interest_true_up

    @property
    def scheduled_interest(self) -> Decimal:
        return self.interest_due - self.interest_true_up

    def status_on(self, on, *, grace_days: int) -> str:
        """The status as of business date `on` (the stored one is as of the last write/COB),
        by `servicing.calculations.installment_status`."""
        from .calculations import installment_status

        return installment_status(
            remaining=self.remaining,
            total_paid=self.total_paid,
            due_date=self.due_date,
            on=on,
            grace_days=grace_days,
        )


# --------------------------------------------------------------------------- ledger


class Account(models.TextChoices):
    """The chart of accounts (code, name). Normal side: assets/expense debit, others credit."""

    CASH = "1000", "Cash / clearing"
    PRINCIPAL = "1100", "Loan principal receivable"
    INTEREST = "1110", "Interest receivable"
    FEES = "1120", "Fees receivable"
    CREDIT = "2100", "Borrower credit balance"
    SUSPENSE = "2900", "Suspense"
    INTEREST_INCOME = "4100", "Interest income"
    FEE_INCOME = "4200", "Fee income"
    RECOVERIES = "4300", "Recoveries income"
    CHARGE_OFF = "5100", "Charge-off expense"


DEBIT_NORMAL_ACCOUNTS = frozenset(
    {Account.CASH, Account.PRINCIPAL, Account.INTEREST, Account.FEES, Account.CHARGE_OFF}
)


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableLedgerError("Journal rows are never updated; post a reversing entry.")

    def delete(self):
        raise ImmutableLedgerError("Journal rows are never deleted; post a reversing entry.")


class ImmutableLedgerError(RuntimeError):
    pass


class _Immutable(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableLedgerError(f"{type(self).__name__} rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableLedgerError(f"{type(self).__name__} rows are never deleted.")


class EntryType(models.TextChoices):
    DISBURSEMENT = "disbursement", "Disbursement"
    ACCRUAL = "accrual", "Interest accrual"
    PAYMENT = "payment", "Payment"
    RECOVERY = "recovery", "Recovery"
    FEE = "fee", "Fee"
    FEE_WAIVER = "fee_waiver", "Fee waiver"
    CHARGE_OFF = "charge_off", "Charge-off"
    REFUND = "refund", "Credit refund"
    REVERSAL = "reversal", "Reversal"
    # A late fee whose condition no longer holds after a backdated payment or a reversal.
    FEE_REVERSAL = "fee_reversal", "Fee reversal"
    # The borrower's credit balance applied to what the loan owes.
    CREDIT_APPLIED = "credit_applied", "Credit applied"
    # Suspended interest of a non-accrual loan recognised as income (collected, or the loan
    # returned to accrual).
    SUSPENSE_RELEASE = "suspense_release", "Suspended interest released"


class JournalEntry(_Immutable):
    Type = EntryType

    business_date = models.DateField()
    effective_date = models.DateField()
    entry_type = models.CharField(max_length=16, choices=Type.choices)
    # Indexed by (loan, id) below: no separate FK index (the nightly accrual inserts a
    # million entries; every redundant index costs).
    loan = models.ForeignKey(
        Loan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        db_index=False,
    )
    reference = models.CharField(max_length=128, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        constraints = [_choices_check("journal_entry_type_valid", "entry_type", EntryType)]
        indexes = [
            models.Index(fields=["loan", "id"]),
            models.Index(fields=["business_date"]),
            models.Index(fields=["effective_date"]),
        ]

    def __str__(self) -> str:
        return f"JE-{self.pk} {self.entry_type}"


class JournalLine(_Immutable):
    # No per-row database foreign key (a check per line, 60 ms for a partition's 20,000
    # nightly accrual lines): the ledger's commit-time check (migration 0007) finds that
    # every entry a transaction's lines name exists, once per entry; entries are never
    # deleted (trigger), so it holds from then on.
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    # Indexed by (loan, account) below. No database foreign key: close of business inserts
    # a line per loan a night and a per-row check of a loan that is never deleted (PROTECT)
    # cost more than the insert; `ledger_check` finds a line whose loan is missing.
    loan = models.ForeignKey(
        Loan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_lines",
        db_index=False,
        db_constraint=False,
    )
    account = models.CharField(max_length=8, choices=Account.choices)
    debit = _money()
    credit = _money()

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("journal_line_account_valid", "account", Account),
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0), name="journal_line_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="journal_line_one_side",
            ),
        ]
        indexes = [models.Index(fields=["loan", "account"])]

    def __str__(self) -> str:
        return f"{self.account} Dr {self.debit} Cr {self.credit}"


class InterestAccrual(models.Model):
    """One day's interest of one loan: exact to 6 places; `posted` is what reached the ledger.

    Idempotent per (loan, date) among live rows; a replay marks rows `reversed` (their journal
    entries get reversing entries) and accrues again.
    """

    # Indexed by the unique (loan, date) of live rows. No database foreign keys, as for
    # journal lines: one row per loan a night; `ledger_check` finds dangling references.
    loan = models.ForeignKey(
        Loan,
        on_delete=models.PROTECT,
        related_name="accruals",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField()
    principal_base = _money()
    amount_exact = _exact()
    cumulative_exact = _exact()
    posted = _money()
    cumulative_posted = _money()
    # Credited to suspense (a non-accrual loan) rather than interest income: close of
    # business posts the income side of a day's accrual as one line per account for the
    # whole range of loans, so a loan's reversal takes its side from here.
    to_suspense = models.BooleanField(default=False)
    # Close of business posts one entry a day for a range of loans (a line pair per loan),
    # so many accrual rows share an entry.
    entry = models.ForeignKey(
        JournalEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accruals",
        db_index=False,
        db_constraint=False,
    )
    reversed = models.BooleanField(default=False)

    class Meta:
        ordering = ["loan_id", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "date"], condition=Q(reversed=False), name="accrual_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.date} {self.amount_exact}"


# --------------------------------------------------------------------------- payments, fees


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


class Payment(models.Model):
    Status = PaymentStatus

    TRANSITIONS: dict[str, tuple[str, ...]] = {Status.POSTED: (Status.REVERSED,)}

    Method = PaymentMethod

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="payments")
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
            _choices_check("payment_status_valid", "status", PaymentStatus),
            _choices_check("payment_method_valid", "method", PaymentMethod),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["loan", "effective_date", "id"])]

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


class PaymentApplication(models.Model):
    """One application of a payment to the loan (a replay reverses it and applies anew)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="applications")
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="+")
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


class FeeKind(models.TextChoices):
    LATE = "late", "Late fee"
    NSF = "nsf", "NSF fee"
    MANUAL = "manual", "Manual fee"
    # A refunded credit balance whose payment came back: the borrower owes it again
    # (Dr fees receivable, Cr borrower credit: not income).
    REFUND = "refund", "Refunded credit owed back"


class Fee(models.Model):
    Kind = FeeKind

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = _money()
    paid_amount = _money()
    waived_amount = _money()
    # A late fee reversed because its condition no longer holds (a backdated payment made
    # the installment paid in time): the part reversed, and the business date it was.
    reversed_amount = _money()
    reversed_on = models.DateField(null=True, blank=True)
    assessed_on = models.DateField()  # effective date
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="fees"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="fees"
    )
    reason = models.CharField(max_length=255, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="fee")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("fee_kind_valid", "kind", FeeKind),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0)
                & Q(waived_amount__gte=0)
                & Q(reversed_amount__gte=0)
                & Q(amount__gte=F("paid_amount") + F("waived_amount") + F("reversed_amount")),
                name="fee_settled_within_amount",
            ),
            models.UniqueConstraint(
                fields=["installment"],
                condition=Q(kind="late", reversed_on__isnull=True),
                name="fee_one_late_fee_per_installment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} fee {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount - self.waived_amount - self.reversed_amount

    @property
    def is_late(self) -> bool:
        return self.kind == FeeKind.LATE

    @property
    def status(self) -> str:
        if self.reversed_on is not None:
            return "reversed"
        if self.outstanding > 0:
            return "outstanding"
        return "waived" if self.waived_amount > 0 and self.paid_amount == 0 else "settled"


class FeeWaiver(models.Model):
    fee = models.ForeignKey(Fee, on_delete=models.PROTECT, related_name="waivers")
    amount = _money()
    reason = models.CharField(max_length=255)
    effective_date = models.DateField()
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="waiver")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_waiver_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Waiver {self.amount} of fee {self.fee_id}"


# --------------------------------------------------------------------------- approvals


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


class Statement(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="statements")
    period_start = models.DateField()
    period_end = models.DateField()
    opening_balance = _money()
    closing_balance = _money()
    payments_total = _money()
    interest_charged = _money()
    fees_charged = _money()
    past_due_amount = _money()
    next_due_date = models.DateField(null=True, blank=True)
    next_due_amount = _money()
    pdf = models.FileField(upload_to="statements/%Y/%m/", blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "period_end"], name="statement_once_per_period")
        ]

    def __str__(self) -> str:
        return f"Statement {self.loan_id} {self.period_end}"


# --------------------------------------------------------------------------- close of business


class DelinquencyBucket(models.TextChoices):
    """Default bucket codes; the ranges are configurable (COB_DELINQUENCY_BUCKETS)."""

    CURRENT = "current", "Current"
    B1_29 = "1-29", "1-29 days"
    B30_59 = "30-59", "30-59 days"
    B60_89 = "60-89", "60-89 days"
    B90_119 = "90-119", "90-119 days"
    B120 = "120+", "120+ days"


class DelinquencyHistory(models.Model):
    """A row whenever close of business moves a loan to another bucket."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="bucket_history")
    business_date = models.DateField()
    from_bucket = models.CharField(max_length=16)
    to_bucket = models.CharField(max_length=16)
    dpd = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan_id", "business_date"]
        verbose_name_plural = "delinquency history"
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "business_date"], name="delinquency_history_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.business_date} {self.from_bucket}->{self.to_bucket}"


class ChargeOffCandidate(models.Model):
    """Loans that reached the charge-off threshold (120 DPD): a list for collections.

    No posting: the charge-off itself goes through `charge_off_request` and four-eyes.
    """

    loan = models.OneToOneField(Loan, on_delete=models.PROTECT, related_name="charge_off_candidate")
    listed_on = models.DateField()
    dpd = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["listed_on", "loan_id"]

    def __str__(self) -> str:
        return f"{self.loan_id} listed {self.listed_on} ({self.dpd} dpd)"


class AutopayEnrolment(models.Model):
    """A borrower's standing instruction to debit a bank account on each due date.

    The account number is stored encrypted (Fernet, `servicing.cob.crypto`); only its last
    four digits are kept in clear for display.
    """

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="autopay_enrolments")
    account_encrypted = models.TextField()
    routing_number = models.CharField(max_length=9, blank=True)
    account_last4 = models.CharField(max_length=4)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"], condition=Q(active=True), name="autopay_one_active_per_loan"
            )
        ]

    def __str__(self) -> str:
        return f"Autopay {self.loan_id} ****{self.account_last4}"


class RailTransferStatus(models.TextChoices):
    REQUESTED = "requested", "Requested (not sent yet)"
    PENDING = "pending", "Pending settlement"
    SETTLED = "settled", "Settled"
    RETURNED = "returned", "Returned"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class RailTransferKind(models.TextChoices):
    AUTOPAY = "autopay", "Autopay"
    ONE_TIME = "one_time", "One-time payment"


class RailTransfer(models.Model):
    """One debit of the borrower's account through the payment rail.

    `autopay`: the debit of an installment due (at most one per installment), posted as a
    payment when it is debited and reversed (NSF) if the rail returns it. `one_time`: a
    payment the borrower asked for (portal or API): `requested` until close of business
    sends it (the borrower may cancel it until then), `pending` until the rail settles it;
    only then is it posted, dated the day it was requested. A borrower never moves money by
    declaring it.
    """

    Status = RailTransferStatus
    Kind = RailTransferKind

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.REQUESTED: (Status.PENDING, Status.CANCELLED, Status.FAILED),
        Status.PENDING: (Status.SETTLED, Status.RETURNED, Status.FAILED),
    }

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="rail_transfers")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.AUTOPAY)
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enrolment = models.ForeignKey(
        AutopayEnrolment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=12, choices=PaymentMethod.choices, default="ach")
    # One-time: the account (or debit card) the borrower gave, encrypted like autopay's.
    account_encrypted = models.TextField(blank=True)
    account_last4 = models.CharField(max_length=4, blank=True)
    routing_number = models.CharField(max_length=9, blank=True)
    business_date = models.DateField()  # requested (one-time) or debited (autopay) on
    amount = _money()
    rail = models.CharField(max_length=64)
    rail_reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    settle_on = models.DateField(null=True, blank=True)
    return_code = models.CharField(max_length=8, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("rail_transfer_status_valid", "status", RailTransferStatus),
            _choices_check("rail_transfer_kind_valid", "kind", RailTransferKind),
            models.UniqueConstraint(
                fields=["installment"], name="rail_transfer_once_per_installment"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="autopay", installment__isnull=False, enrolment__isnull=False)
                    | (Q(kind="one_time") & ~Q(account_encrypted=""))
                ),
                name="rail_transfer_kind_fields",
            ),
        ]
        indexes = [models.Index(fields=["loan", "kind", "status"])]

    def __str__(self) -> str:
        return f"Transfer {self.pk} {self.amount} {self.status}"


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """A borrower reminder queued by close of business (sent after commit by a task)."""

    Status = NotificationStatus

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="notifications")
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=24)  # due_soon, overdue_1, overdue_7, ...
    channel = models.CharField(max_length=8)  # email, sms
    business_date = models.DateField()
    recipient = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("notification_status_valid", "status", NotificationStatus),
            models.UniqueConstraint(
                fields=["installment", "kind", "channel"], name="notification_once_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} loan {self.loan_id}"


class CobRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class CobRun(models.Model):
    """One close of business of one business date (unique: a date closes once)."""

    Status = CobRunStatus

    business_date = models.DateField(unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, default="manual")  # manual, api, schedule, command
    mode = models.CharField(max_length=8, default="eager")  # eager, celery
    partitions_total = models.PositiveIntegerField(default=0)
    partitions_done = models.PositiveIntegerField(default=0)
    loans_total = models.PositiveIntegerField(default=0)
    loans_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    steps = models.JSONField(default=dict, blank=True)  # step -> {"count": n, "seconds": s}
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date"]
        constraints = [_choices_check("cob_run_status_valid", "status", CobRunStatus)]

    def __str__(self) -> str:
        return f"COB {self.business_date} {self.status}"

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or self.heartbeat_at
        if end is None:
            return None
        return max((end - self.started_at).total_seconds(), 0.0)

    @property
    def loans_per_second(self) -> float | None:
        seconds = self.seconds
        if not seconds:
            return None
        return self.loans_done / seconds


class CobPartitionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class CobPartition(models.Model):
    """A loan id range of a run: its work commits in one transaction with `status=done`."""

    Status = CobPartitionStatus

    run = models.ForeignKey(CobRun, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField()
    lo_id = models.BigIntegerField()
    hi_id = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    loans = models.PositiveIntegerField(default=0)
    steps = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "number"]
        constraints = [
            _choices_check("cob_partition_status_valid", "status", CobPartitionStatus),
            models.UniqueConstraint(fields=["run", "number"], name="cob_partition_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.number} [{self.lo_id}, {self.hi_id}] {self.status}"


class CobLoanFailure(models.Model):
    """A loan whose close of business failed (the rest of its partition went on)."""

    run = models.ForeignKey(CobRun, on_delete=models.CASCADE, related_name="failures")
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="+")
    error = models.TextField()
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "loan"], name="cob_loan_failure_unique")
        ]

    def __str__(self) -> str:
        return f"COB {self.run_id} loan {self.loan_id}: {self.error[:40]}"
