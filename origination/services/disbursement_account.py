"""The account a loan is paid out to, recorded on the application (encrypted, last four in
clear for display). The borrower enters it (portal apply or offer), or staff before the
offer; once the offer is made only the borrower changes it, and a change after acceptance
reopens the offer so the borrower signs again for the new account."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from lendcore.core import crypto
from lendcore.core.state import transition
from origination import selectors
from origination.errors import Conflict, ErrorCode, InvalidTransition, ValidationFailed
from origination.lock_objects import application_lock
from origination.models import Application, Offer
from origination.services._common import S, audit

_ACCOUNT = re.compile(r"^[A-Z0-9]{4,34}$")  # a bank account number or an IBAN
ACCOUNT_FIELD = "disbursement_account"
ACCOUNT_OPEN_FOR_STAFF = (S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.REFERRED)
ACCOUNT_OPEN_FOR_BORROWER = (*ACCOUNT_OPEN_FOR_STAFF, S.APPROVED, S.OFFER_ACCEPTED)


def disbursement_account_normalize(value: str | None) -> str:
    """Digits and letters only, upper case; 400 naming the field if it is not an account."""
    text = re.sub(r"[\s-]", "", value or "").upper()
    if not _ACCOUNT.match(text):
        raise ValidationFailed.for_fields(
            {ACCOUNT_FIELD: ["Enter the account number: 4 to 34 letters or digits."]}
        )
    return text


def disbursement_account_of(application: Application) -> str:
    """The recorded account in full (for paying out), or "" when none is recorded."""
    token = application.disbursement_account_encrypted
    return crypto.decrypt(token) if token else ""


def _is_borrower(application: Application, acting_user: Any) -> bool:
    borrower = application.applicant.borrower
    return (
        borrower is not None
        and borrower.user_id is not None
        and (borrower.user_id == getattr(acting_user, "pk", None))
    )


def application_disbursement_account_set(
    *, application: Application, account: str, acting_user: Any
) -> Application:
    normalized = disbursement_account_normalize(account)
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        is_borrower = _is_borrower(application, acting_user)
        allowed = ACCOUNT_OPEN_FOR_BORROWER if is_borrower else ACCOUNT_OPEN_FOR_STAFF
        if application.status not in allowed:
            if application.status in (S.APPROVED, S.OFFER_ACCEPTED):
                raise Conflict(
                    "The offer is made: only the borrower can change the disbursement account "
                    "now (in the portal).",
                    code=ErrorCode.ACCOUNT_LOCKED,
                )
            raise InvalidTransition(
                f"The disbursement account of an application that is {application.status} "
                "cannot change.",
                extra={"from": application.status},
            )
        if disbursement_account_of(application) == normalized:
            return application
        application.disbursement_account_encrypted = crypto.encrypt(normalized)
        application.disbursement_account_last4 = normalized[-4:]
        fields = ["disbursement_account_encrypted", "disbursement_account_last4"]
        if application.status == S.OFFER_ACCEPTED:
            _acceptance_reset(application, acting_user, fields)
        else:
            application.save(update_fields=[*fields, "updated_at"])
        audit(
            action="disbursement_account_set",
            acting_user=acting_user,
            application=application,
            last4=application.disbursement_account_last4,
        )
    return application


def _acceptance_reset(application: Application, acting_user: Any, fields: list[str]) -> None:
    """The signature covered the old account: reopen the offer for the borrower to sign again."""
    offer = selectors.application_offer(application)
    assert offer is not None
    offer.accepted_at = None
    offer.accepted_by = None
    offer.signature_name = ""
    offer.signature_ip = None
    offer.accepted_on_behalf = False
    reason = "disbursement account changed; the borrower accepts again"
    transition(
        offer,
        to=Offer.Status.OPEN,
        acting_user=acting_user,
        reason=reason,
        update_fields=[
            "accepted_at",
            "accepted_by",
            "signature_name",
            "signature_ip",
            "accepted_on_behalf",
        ],
    )
    transition(
        application, to=S.APPROVED, acting_user=acting_user, reason=reason, update_fields=fields
    )
