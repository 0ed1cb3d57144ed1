"""Offers: made on approval, accepted with an e-signature, expired when not accepted."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.core.state import transition
from lendcore.finance.money import round_money
from origination import effects, pdfs, pricing, selectors
from origination.errors import InvalidTransition, NotFound, OfferExpired, ValidationFailed
from origination.lock_objects import application_lock
from origination.models import Application, Document, Offer, OfferEvent
from origination.services._common import S, audit, today, user_or_none
from origination.services.documents import document_generated


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


def offer_accept(
    *,
    application: Application,
    acting_user: Any,
    signature_name: str,
    ip_address: str | None,
    on_behalf: bool = False,
) -> Application:
    """Accept the offer with a typed-name e-signature; render and store the TILA disclosure and
    the loan agreement. A loan officer accepting for the borrower is audited."""

    signature_name = (signature_name or "").strip()
    if not signature_name:
        raise ValidationFailed.for_fields(
            {"signature_name": ["Type your full name to sign."]}, message="A signature is required."
        )
    now = timezone.now()
    application = Application.objects.select_related("applicant", "product", "product_version").get(
        pk=application.pk
    )
    offer = _offer_open_check(application, now)
    signature = {"name": signature_name, "at": now, "ip": ip_address, "on_behalf": on_behalf}
    tila_pdf = pdfs.tila_disclosure_pdf(application=application, offer=offer)
    agreement_pdf = pdfs.loan_agreement_pdf(
        application=application, offer=offer, signature=signature
    )
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        offer = _offer_open_check(application, now)
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
