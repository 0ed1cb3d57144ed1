"""Disbursement: the application becomes `disbursed` and servicing boards the loan."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from lendcore.accounts.services import borrower_create_without_login
from lendcore.core.state import transition
from lendcore.webhooks.outbox import event_emit
from origination import effects, pricing, selectors
from origination.errors import Conflict, ErrorCode, InvalidTransition
from origination.lock_objects import application_lock
from origination.models import Application, Offer
from origination.services._common import FieldErrors, S, today
from origination.services.disbursement_account import (
    disbursement_account_normalize,
    disbursement_account_of,
)
from origination.services.invitations import applicant_link_check
from servicing.services import loan_board

DISBURSEMENT_METHODS = ("ach", "wire", "check")


def loan_boarding_build(*, application: Application, offer: Offer, disbursed_on: date):
    """The frozen snapshot servicing boards: the kernel's terms plus the product's policy."""

    version = application.product_version
    terms = pricing.loan_terms_for(
        version,
        note_principal=offer.note_principal,
        annual_rate=offer.annual_rate,
        term=offer.term,
        frequency=offer.frequency,
        disbursement_date=disbursed_on,
    )
    return pricing.loan_boarding_for(
        version,
        product=application.product,
        terms=terms,
        annual_rate_pct=offer.annual_rate,
        origination_fee=offer.origination_fee,
        apr=offer.apr,
    )


def _disburse_check_input(method: str, reference: str) -> None:
    errors = FieldErrors()
    if method not in DISBURSEMENT_METHODS:
        errors.add("method", f"{method!r} is not one of: {', '.join(DISBURSEMENT_METHODS)}.")
    if not (reference or "").strip():
        errors.add("reference", "This field is required.")
    errors.raise_if_any()


def _destination(application: Application, account: str | None) -> str:
    """The account recorded on the application, which the borrower signed for. `reference` is
    the transfer's own trace reference, never a destination; an `account` given here that is
    not the recorded one is refused."""
    recorded = disbursement_account_of(application)
    if not recorded:
        raise Conflict(
            "No disbursement account is recorded; the borrower enters it in the portal.",
            code=ErrorCode.ACCOUNT_MISSING,
        )
    if account and disbursement_account_normalize(account) != recorded:
        raise Conflict(
            "The loan is paid only to the account recorded on the application "
            f"(••••{application.disbursement_account_last4}), which the borrower accepted.",
            code=ErrorCode.ACCOUNT_MISMATCH,
            extra={"fields": {"account": ["Not the account recorded on the application."]}},
        )
    return recorded


@transaction.atomic(durable=True)
def application_disburse(
    *,
    application: Application,
    acting_user: Any,
    method: str,
    reference: str,
    account: str | None = None,
) -> Application:
    """Disburse an accepted offer to the account recorded on the application: the application
    becomes `disbursed` and servicing boards the loan, in one durable transaction. A retry or a
    concurrent call returns the same loan."""

    _disburse_check_input(method, reference)
    application = application_lock(application_id=application.pk)
    if application.status == S.DISBURSED:
        return application  # idempotent: the loan already exists
    if application.status != S.OFFER_ACCEPTED:
        raise InvalidTransition(
            f"An application that is {application.status} cannot be disbursed; "
            "the offer must be accepted first.",
            extra={"from": application.status, "to": S.DISBURSED},
        )
    applicant_link_check(application.applicant)
    _destination(application, account)
    offer = selectors.application_offer(application)
    assert offer is not None
    applicant = application.applicant
    if applicant.borrower_id is None:
        # Served in the branch without a portal login: the loan still needs its borrower.
        applicant.borrower = borrower_create_without_login(
            first_name=applicant.first_name,
            last_name=applicant.last_name,
            email=applicant.email,
            phone=applicant.phone,
        )
        applicant.save(update_fields=["borrower"])
    disbursed_on = today()
    boarding = loan_boarding_build(application=application, offer=offer, disbursed_on=disbursed_on)
    loan = loan_board(
        boarding=boarding,
        borrower=applicant.borrower,
        application_ref=f"APP-{application.pk}",
        disbursed_on=disbursed_on,
        method=method,
        reference=reference.strip(),
        acting_user=acting_user,
    )
    application.loan = loan
    transition(
        application,
        to=S.DISBURSED,
        acting_user=acting_user,
        reason=f"disbursed by {method} ({reference.strip()}) to account "
        f"••••{application.disbursement_account_last4}",
        update_fields=["loan"],
    )
    event_emit(
        type="loan.disbursed",
        loan_id=loan.pk,
        data={
            "loan_id": loan.pk,
            "loan_number": loan.loan_number,
            "application_id": application.pk,
            "borrower_id": loan.borrower_id,
            "principal_amount": loan.principal_amount,
            "disbursed_on": disbursed_on,
            "method": method,
        },
    )
    effects.notification_on_commit(application.pk, "disbursed")
    return application
