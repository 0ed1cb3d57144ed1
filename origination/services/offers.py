"""Offers: made on approval, accepted with an e-signature, expired when not accepted."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.accounts.roles import perm
from lendcore.accounts.selectors import user_is_staff_member
from lendcore.core.state import transition
from lendcore.finance.money import round_money
from origination import effects, pdfs, pricing, selectors
from origination.errors import (
    Conflict,
    ErrorCode,
    InvalidTransition,
    NotFound,
    OfferExpired,
    ValidationFailed,
)
from origination.lock_objects import application_lock
from origination.models import Application, Document, Offer, OfferEvent
from origination.services._common import S, application_event, audit, today, user_or_none
from origination.services.disbursement_account import (
    ACCOUNT_FIELD,
    application_disbursement_account_set,
)
from origination.services.documents import document_generated
from origination.services.invitations import applicant_link_check


def offer_create(
    *,
    application: Application,
    amount: Decimal,
    annual_rate: Decimal,
    term: int,
    acting_user: Any,
) -> Offer:
    version = application.product_version
    on = today()
    quote = pricing.quote_for(
        version,
        amount=amount,
        annual_rate=annual_rate,
        term=term,
        frequency=application.frequency,
        disbursement_date=on,
    )
    offer = Offer.objects.create(
        application=application,
        amount=amount,
        annual_rate=annual_rate,
        term=term,
        frequency=application.frequency,
        payment=quote.payment,
        apr=quote.apr,
        apr_exact=round_money(quote.apr_exact, 6),
        finance_charge=quote.finance_charge,
        amount_financed=quote.amount_financed,
        total_of_payments=quote.total_of_payments,
        origination_fee=quote.prepaid_fees + quote.financed_fees,
        note_principal=quote.note_principal,
        disbursement_date=on,
        first_due_date=quote.installments[0].due_date,
        installments=[pricing.installment_json(i) for i in quote.installments],
        expires_at=timezone.now() + timedelta(days=version.offer_validity_days),
    )
    OfferEvent.objects.create(
        offer=offer, actor=user_or_none(acting_user), from_status="", to_status="open"
    )
    return offer


def _offer_open_check(application: Application, now: datetime) -> Offer:
    if application.status == S.EXPIRED:
        raise OfferExpired("This offer has expired.")
    if application.status != S.APPROVED:
        raise InvalidTransition(
            f"An application that is {application.status} has no offer to accept.",
            extra={"from": application.status, "to": S.OFFER_ACCEPTED},
        )
    offer = selectors.application_offer(application)
    if offer is None:
        raise NotFound("This application has no offer.")
    if offer.status == Offer.Status.EXPIRED or offer.expires_at <= now:
        raise OfferExpired(f"This offer expired on {offer.expires_at:%Y-%m-%d %H:%M} UTC.")
    if offer.status != Offer.Status.OPEN:
        raise InvalidTransition(f"This offer is {offer.status}.")
    return offer


def accepting_on_behalf(application: Application, acting_user: Any) -> bool:
    """Whether `acting_user` is someone other than the application's own borrower."""
    borrower = application.applicant.borrower
    return not (
        borrower is not None
        and borrower.user_id is not None
        and borrower.user_id == getattr(acting_user, "pk", None)
    )


def _on_behalf_check(acting_user: Any) -> None:
    if not (user_is_staff_member(acting_user) and acting_user.has_perm(perm("accept_on_behalf"))):
        raise Conflict(
            "The borrower accepts and signs this offer in the portal. Accepting on their behalf "
            "needs the accept_on_behalf permission.",
            code=ErrorCode.ACCEPT_ON_BEHALF,
        )


def offer_accept(
    *,
    application: Application,
    acting_user: Any,
    signature_name: str,
    ip_address: str | None,
    disbursement_account: str | None = None,
) -> Application:
    """Accept the offer with a typed-name e-signature; render and store the TILA disclosure and
    the loan agreement. The borrower accepts; anyone else needs `accept_on_behalf` (audited,
    the notice goes to the borrower's verified address). The disbursement account must be
    recorded (or given here) so the borrower signs for where the money goes."""

    signature_name = (signature_name or "").strip()
    if not signature_name:
        raise ValidationFailed.for_fields(
            {"signature_name": ["Type your full name to sign."]}, message="A signature is required."
        )
    applicant_link_check(application.applicant)
    now = timezone.now()
    _offer_open_check(application, now)
    on_behalf = accepting_on_behalf(application, acting_user)
    if on_behalf:
        _on_behalf_check(acting_user)
    if disbursement_account:
        application_disbursement_account_set(
            application=application, account=disbursement_account, acting_user=acting_user
        )
    application = Application.objects.select_related("applicant", "product", "product_version").get(
        pk=application.pk
    )
    offer = _offer_open_check(application, now)
    if not application.disbursement_account_last4:
        raise ValidationFailed.for_fields(
            {ACCOUNT_FIELD: ["Enter the account the loan is paid out to."]},
            message="The disbursement account is required to accept the offer.",
        )
    account_token = application.disbursement_account_encrypted
    signature = {"name": signature_name, "at": now, "ip": ip_address, "on_behalf": on_behalf}
    tila_pdf = pdfs.tila_disclosure_pdf(application=application, offer=offer)
    agreement_pdf = pdfs.loan_agreement_pdf(
        application=application, offer=offer, signature=signature
    )
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        offer = _offer_open_check(application, now)
        if application.disbursement_account_encrypted != account_token:
            raise Conflict(
                "The disbursement account changed while accepting; review the offer again.",
                code=ErrorCode.ACCOUNT_MISMATCH,
            )
        offer.accepted_at = now
        offer.accepted_by = user_or_none(acting_user)
        offer.signature_name = signature_name[:200]
        offer.signature_ip = ip_address or None
        offer.accepted_on_behalf = on_behalf
        transition(
            offer,
            to="accepted",
            acting_user=acting_user,
            reason="accepted on behalf of the borrower" if on_behalf else "accepted",
            update_fields=[
                "accepted_at",
                "accepted_by",
                "signature_name",
                "signature_ip",
                "accepted_on_behalf",
            ],
        )
        transition(
            application,
            to=S.OFFER_ACCEPTED,
            acting_user=acting_user,
            reason=f"offer accepted, signed {signature_name!r}",
        )
        document_generated(
            application=application,
            doc_type=Document.DocType.TILA_DISCLOSURE,
            data=tila_pdf,
            name=f"tila-disclosure-{application.pk}.pdf",
            acting_user=acting_user,
        )
        document_generated(
            application=application,
            doc_type=Document.DocType.LOAN_AGREEMENT,
            data=agreement_pdf,
            name=f"loan-agreement-{application.pk}.pdf",
            acting_user=acting_user,
        )
        if on_behalf:
            audit(
                action="offer_accepted_on_behalf",
                acting_user=acting_user,
                application=application,
                signature_name=signature_name,
                ip=ip_address,
                notice_to=selectors.applicant_contact_email(application.applicant),
            )
        application_event(
            "offer.accepted",
            application,
            offer_id=offer.pk,
            amount=offer.amount,
            annual_rate=offer.annual_rate,
            term=offer.term,
            on_behalf=on_behalf,
        )
        effects.notification_on_commit(application.pk, "accepted")
    return application


def offers_expire(*, now: datetime | None = None, acting_user: Any = None) -> int:
    """Expire the offers not accepted within the product's validity (periodic task)."""
    now = now or timezone.now()
    due = list(
        Offer.objects.filter(
            status=Offer.Status.OPEN, expires_at__lte=now, application__status=S.APPROVED
        )
        .order_by("application_id")
        .values_list("application_id", flat=True)
    )
    expired = 0
    for application_id in due:
        with transaction.atomic():
            application = application_lock(application_id=application_id)
            offer = selectors.application_offer(application)
            if application.status != S.APPROVED or offer is None or offer.expires_at > now:
                continue
            transition(offer, to="expired", acting_user=acting_user, reason="not accepted in time")
            transition(
                application, to=S.EXPIRED, acting_user=acting_user, reason="offer not accepted"
            )
            expired += 1
    return expired
