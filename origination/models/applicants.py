"""Applicants (the SSN is stored encrypted, with its last four digits)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from origination.models._fields import money_field


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
    monthly_income = money_field()
    monthly_housing_payment = money_field(default=Decimal("0.00"))
    monthly_other_debts = money_field(default=Decimal("0.00"))
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
