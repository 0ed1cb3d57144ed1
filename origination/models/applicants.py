"""Applicants (the SSN and the date of birth are stored encrypted)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models

from lendcore.core import crypto
from lendcore.core.external_ids import ExternalIdFields, external_id_unique
from origination.models._fields import money_field


def _iso_date(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


class Applicant(ExternalIdFields):
    """A person applying. The SSN and the date of birth are stored encrypted (Fernet,
    `lendcore.core.crypto`); pages show the SSN's last four and the year of birth only."""

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
    date_of_birth_encrypted = models.TextField()
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
            external_id_unique("orig_applicant"),
            models.CheckConstraint(
                condition=models.Q(monthly_income__gt=0), name="orig_applicant_income_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} (***-**-{self.ssn_last4})"

    # `applicant.date_of_birth` is the clear date (the age rule, the bureau): decrypted on read.
    date_of_birth = crypto.encrypted_property(
        "date_of_birth_encrypted", parse=date.fromisoformat, dump=_iso_date, empty=None
    )

    @property
    def date_of_birth_masked(self) -> str:
        return crypto.mask_date(self.date_of_birth)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
