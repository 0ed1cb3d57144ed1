"""Applications: create (idempotent on external_id), start, submit, withdraw."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.core import crypto
from lendcore.core.external_ids import external_id_guard, external_id_normalize
from lendcore.core.state import transition
from origination import effects, selectors
from origination.errors import (
    Conflict,
    ErrorCode,
    InvalidTransition,
    MissingDocuments,
    ValidationFailed,
)
from origination.lock_objects import application_lock
from origination.models import Applicant, Application, ApplicationEvent, LoanProduct, Offer
from origination.services._common import S, application_event, terms_errors, user_or_none
from origination.services.applicants import applicant_create
from origination.services.disbursement_account import disbursement_account_normalize
from origination.services.invitations import applicant_link_check


def application_create(
    *,
    acting_user: Any,
    applicant: Applicant,
    product: LoanProduct,
    amount: Decimal,
    term: int,
    frequency: str,
    channel: str,
    purpose: str = "",
    external_id: str | None = None,
    assigned_officer: Any = None,
    disbursement_account: str | None = None,
) -> Application:
    """A draft application. `external_id` is the caller's own id for it (unique per caller):
    the same id again with the same terms returns it. `disbursement_account` (optional) is
    where the loan will be paid out."""
    external_id = external_id_normalize(external_id or None)
    owner = user_or_none(acting_user) if external_id else None
    if external_id:
        existing = Application.objects.filter(
            external_id_owner=owner, external_id=external_id
        ).first()
        if existing is not None:
            if (
                existing.applicant_id == applicant.pk
                and existing.product_id == product.pk
                and existing.amount == amount
                and existing.term == term
                and existing.frequency == frequency
            ):
                return existing
            raise Conflict(
                f"external_id {external_id!r} is already used by another application.",
                code="external_id_taken",
                extra={"fields": {"external_id": ["Already used by another application."]}},
            )
    if not product.active:
        raise ValidationFailed.for_fields(
            {"product": ["This product is not offered any more."]}, code=ErrorCode.PRODUCT_INACTIVE
        )
    if channel not in Application.Channel.values:
        raise ValidationFailed.for_fields({"channel": [f"{channel!r} is not a channel."]})
    version = selectors.product_current_version(product)
    errors = terms_errors(version, amount=amount, term=term, frequency=frequency)
    if amount is not None and amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.add("amount", "At most 2 decimal places.")
    errors.raise_if_any()
    account = disbursement_account_normalize(disbursement_account) if disbursement_account else ""
    with transaction.atomic():
        with external_id_guard(Application, owner=owner, external_id=external_id):
            application = Application.objects.create(
                disbursement_account_encrypted=crypto.encrypt(account) if account else "",
                disbursement_account_last4=account[-4:],
                applicant=applicant,
                product=product,
                product_version=version,
                amount=amount,
                term=term,
                frequency=frequency,
                purpose=purpose,
                channel=channel,
                external_id=external_id,
                external_id_owner=owner,
                created_by=user_or_none(acting_user),
                assigned_officer=assigned_officer,
            )
        ApplicationEvent.objects.create(
            application=application,
            actor=user_or_none(acting_user),
            from_status="",
            to_status=S.DRAFT,
            reason=f"created via {channel}",
        )
    return application


@transaction.atomic
def application_start(
    *,
    acting_user: Any,
    borrower: Any,
    applicant_fields: Mapping[str, Any],
    product: LoanProduct,
    amount: Decimal,
    term: int,
    frequency: str,
    purpose: str = "",
    channel: str = Application.Channel.PORTAL,
) -> Application:
    """A borrower's own start: the applicant and the draft exist together or not at all."""
    applicant = applicant_create(acting_user=acting_user, borrower=borrower, **applicant_fields)
    return application_create(
        acting_user=acting_user,
        applicant=applicant,
        product=product,
        amount=amount,
        term=term,
        frequency=frequency,
        purpose=purpose,
        channel=channel,
    )


def application_submit(*, application: Application, acting_user: Any) -> Application:
    """draft -> submitted; the automated decision runs in a task after commit."""
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        if application.status != S.DRAFT:
            raise InvalidTransition(
                f"This application is already {application.status}; it can be submitted once.",
                extra={"from": application.status, "to": S.SUBMITTED},
            )
        applicant_link_check(application.applicant)
        missing = selectors.application_missing_document_types(application)
        if missing:
            raise MissingDocuments(
                f"Required documents are missing: {', '.join(missing)}.",
                extra={
                    "missing": missing,
                    "fields": {"documents": [f"Missing: {', '.join(missing)}."]},
                },
            )
        application.submitted_at = timezone.now()
        transition(
            application,
            to=S.SUBMITTED,
            acting_user=acting_user,
            reason="submitted",
            update_fields=["submitted_at"],
        )
        application_event("application.submitted", application)

        app_id = application.pk
        effects.notification_on_commit(app_id, "submitted")
        effects.decision_requested_on_commit(app_id)
    return application


def application_withdraw(
    *, application: Application, acting_user: Any, reason: str = ""
) -> Application:
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        transition(
            application, to=S.WITHDRAWN, acting_user=acting_user, reason=reason or "withdrawn"
        )
        offer = selectors.application_offer(application)
        if (
            offer is not None
            and offer.status in Offer.TRANSITIONS
            and "withdrawn" in Offer.TRANSITIONS[offer.status]
        ):
            transition(
                offer, to="withdrawn", acting_user=acting_user, reason="application withdrawn"
            )
    return application
