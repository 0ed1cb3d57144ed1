"""Applicants: create with an encrypted SSN, reveal it (audited)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import transaction

from lendcore.core.external_ids import (
    external_id_check,
    external_id_guard,
    external_id_normalize,
)
from origination import crypto
from origination.errors import Conflict, ErrorCode, ValidationFailed
from origination.models import Applicant
from origination.services._common import FieldErrors, audit, today, user_or_none
from origination.services.invitations import borrower_invitation_create

APPLICANT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "employer",
    "months_employed",
    "monthly_income",
    "monthly_housing_payment",
    "monthly_other_debts",
)
_SSN = re.compile(r"^[0-9]{9}$")  # ASCII: Python's \d takes any script's digits

MIN_AGE = 18


def ssn_normalize(value: str) -> str | None:
    digits = re.sub(r"[\s-]", "", value or "")
    return digits if _SSN.match(digits) else None


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@transaction.atomic
def applicant_create(
    *,
    acting_user: Any,
    ssn: str,
    borrower: Any = None,
    invite_borrower: Any = None,
    co_applicant: Applicant | None = None,
    external_id: str | None = None,
    **fields: Any,
) -> Applicant:
    """A new applicant. `borrower` links the signed-in borrower's own applicant; staff name an
    existing borrower with `invite_borrower`, which invites them instead of linking.
    `external_id` is the caller's own id for it (unique per caller)."""
    if borrower is not None and (
        borrower.user_id is None or borrower.user_id != getattr(acting_user, "pk", None)
    ):
        # Only the borrower links themselves; anyone else goes through an invitation.
        raise Conflict(
            "An existing borrower is linked only by an invitation they accept.",
            code=ErrorCode.INVITATION_PENDING,
        )
    unknown = set(fields) - set(APPLICANT_FIELDS)
    if unknown:
        raise ValidationFailed.for_fields({k: ["Unknown field."] for k in sorted(unknown)})
    errors = FieldErrors()
    for required in (
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "address_line1",
        "city",
        "state",
        "postal_code",
        "monthly_income",
    ):
        if fields.get(required) in (None, ""):
            errors.add(required, "This field is required.")
    normalized = ssn_normalize(ssn)
    if normalized is None:
        errors.add("ssn", "Must be nine digits.")
    born = fields.get("date_of_birth")
    if isinstance(born, date):
        if born > today():
            errors.add("date_of_birth", "Must be in the past.")
        elif age_on(born, today()) < MIN_AGE:
            errors.add("date_of_birth", f"The applicant must be at least {MIN_AGE} years old.")
    errors.money(fields, "monthly_income", "monthly_housing_payment", "monthly_other_debts")
    income = fields.get("monthly_income")
    if income is not None and income <= 0:
        errors.add("monthly_income", "Must be more than 0.")
    for name in ("monthly_housing_payment", "monthly_other_debts"):
        if fields.get(name) is not None and fields[name] < 0:
            errors.add(name, "Must be 0 or more.")
    state = fields.get("state")
    if state and not re.fullmatch(r"[A-Za-z]{2}", state):
        errors.add("state", "Must be a two-letter state code.")
    errors.raise_if_any()
    external_id = external_id_normalize(external_id or None)
    owner = user_or_none(acting_user) if external_id else None
    if external_id:
        external_id_check(Applicant, owner=owner, external_id=external_id)
    if fields.get("state"):
        fields["state"] = fields["state"].upper()
    fields = {k: v for k, v in fields.items() if v is not None}
    assert normalized is not None
    with external_id_guard(Applicant, owner=owner, external_id=external_id):
        applicant = Applicant.objects.create(
            borrower=borrower,
            created_by=user_or_none(acting_user),
            co_applicant=co_applicant,
            ssn_encrypted=crypto.encrypt(normalized),
            ssn_last4=normalized[-4:],
            external_id=external_id,
            external_id_owner=owner,
            **fields,
        )
    audit(action="applicant_created", acting_user=acting_user, applicant=applicant)
    if invite_borrower is not None:
        borrower_invitation_create(
            applicant=applicant, borrower=invite_borrower, acting_user=acting_user
        )
    return applicant


@transaction.atomic
def applicant_ssn_reveal(*, applicant: Applicant, acting_user: Any, application: Any = None) -> str:
    """The full SSN; the caller has checked `reveal_ssn`. Audited with the application it was
    revealed for (when there is one) and the client address."""
    audit(
        action="ssn_revealed", acting_user=acting_user, applicant=applicant, application=application
    )
    return crypto.decrypt(applicant.ssn_encrypted)
