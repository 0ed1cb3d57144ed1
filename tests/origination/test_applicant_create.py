"""applicant_create and applicant_ssn_reveal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from origination import services
from origination.errors import ValidationFailed
from origination.models import Applicant, AuditEntry

from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def test_ssn_is_encrypted_at_rest_and_shown_as_last_four(loan_officer):
    applicant = ApplicantFactory(last4="9999", acting_user=loan_officer)
    assert applicant.ssn_last4 == "9999"
    assert "123459999" not in applicant.ssn_encrypted
    assert "9999" not in applicant.ssn_encrypted


def test_reveal_returns_the_ssn_and_writes_an_audit_row(underwriter):
    applicant = ApplicantFactory(last4="4321")
    assert (
        services.applicant_ssn_reveal(applicant=applicant, acting_user=underwriter) == "123454321"
    )
    entry = AuditEntry.objects.get(action="ssn_revealed")
    assert entry.actor == underwriter
    assert entry.applicant == applicant


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("ssn", {"ssn": "12345678"}),
        ("ssn", {"ssn": "12345678a"}),
        ("ssn", {"ssn": "1234567890"}),
        ("date_of_birth", {"date_of_birth": date(timezone.localdate().year - 17, 1, 1)}),
        ("monthly_income", {"monthly_income": Decimal("0.00")}),
        ("monthly_income", {"monthly_income": Decimal("-5.00")}),
        ("state", {"state": "I1"}),
        ("first_name", {"first_name": ""}),
    ],
)
def test_bad_input_is_400_naming_the_field_and_creates_nothing(field, changes):
    with pytest.raises(ValidationFailed) as excinfo:
        ApplicantFactory(**changes)
    assert field in excinfo.value.extra["fields"]
    assert Applicant.objects.count() == 0
