"""Periodic borrower statements."""

from __future__ import annotations

from django.db import models

from ._fields import _money
from .loans import Loan


class Statement(models.Model):
    # Indexed by the unique (loan, period end), which serves a lookup by loan alone. No
    # database foreign key, as for loan events (close of business writes these in bulk);
    # `ledger_check` finds a statement whose loan is missing.
    loan = models.ForeignKey(
        Loan,
        on_delete=models.PROTECT,
        related_name="statements",
        db_index=False,
        db_constraint=False,
    )
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
