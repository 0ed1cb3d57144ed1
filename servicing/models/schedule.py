"""Versioned repayment schedules and their installments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from servicing.calculations import installment_status

from ._fields import ZERO, _choices_check, _money
from .loans import Loan


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
        indexes = [
            # The few schedules a modification replaced: "is this installment's schedule
            # superseded?" is a probe of this small index, not a read of every schedule
            # (close of business's amount past due of each collection case).
            models.Index(fields=["id"], condition=Q(is_current=False), name="schedule_superseded"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} v{self.version}"


class InstallmentStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    DUE = "due", "Due"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"


# An installment not paid yet (paid_on is set exactly when it is paid): the condition of the
# unpaid index, so a query that names it can use that index.
UNPAID = Q(paid_on__isnull=True)


class Installment(models.Model):
    Status = InstallmentStatus

    # Neither foreign key has an index of its own: each leads a composite one, (schedule,
    # number) and (loan, due date), which serves a lookup by it alone (every index is one
    # more entry for each row a payment or a modification writes).
    schedule = models.ForeignKey(
        ScheduleVersion, on_delete=models.PROTECT, related_name="installments", db_index=False
    )
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="installments", db_index=False
    )
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
    # The effective date of the payment (or credit) that completed it: set exactly when the
    # status is paid (a CHECK holds it), so `UNPAID` (paid_on null) is "not paid" without
    # naming the status; see the unpaid index below.
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["schedule_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="installment_unique"),
            _choices_check("installment_status_valid", "status", InstallmentStatus),
            models.CheckConstraint(
                condition=Q(status=InstallmentStatus.PAID, paid_on__isnull=False)
                | (~Q(status=InstallmentStatus.PAID) & Q(paid_on__isnull=True)),
                name="installment_paid_on_when_paid",
            ),
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
            # The condition reads paid_on, not status: no index then holds status, so the
            # night's due and overdue transitions are HOT updates (the row version stays on
            # its page, which the table's fillfactor leaves room for, and no index is
            # written). Queries name it with `UNPAID` (SQL: paid_on IS NULL).
            models.Index(
                fields=["loan", "due_date"],
                condition=Q(paid_on__isnull=True),
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
        return installment_status(
            remaining=self.remaining,
            total_paid=self.total_paid,
            due_date=self.due_date,
            on=on,
            grace_days=grace_days,
        )


# --------------------------------------------------------------------------- ledger
