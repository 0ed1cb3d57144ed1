"""E-mails to applicants (Django's e-mail backend), HTML and text from
templates/origination/email/<event>.{txt,html}. Called after commit by a task, once per task
message: `delivery_id` (the task's id) keys a receipt (lendcore.core.receipts), so the message
delivered again after a worker died sends nothing."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from lendcore.core.receipts import effect_once

from . import selectors
from .models import Application, BorrowerInvitation, Document

logger = logging.getLogger(__name__)

NOTIFICATION_RECEIPT = "origination.notification_send"
INVITATION_RECEIPT = "origination.invitation_send"

SUBJECTS = {
    "submitted": "We received your application",
    "documents_requested": "We need documents for your application",
    "decision_approved": "Your application is approved",
    "decision_referred": "Your application is being reviewed",
    "decision_declined": "About your application",
    "offer": "Your loan offer is ready",
    "accepted": "You accepted your loan offer",
    "disbursed": "Your loan has been disbursed",
}


def notification_send(*, application_id: int, event: str, delivery_id: str) -> bool:
    if event not in SUBJECTS:
        raise ValueError(f"unknown notification {event!r}")
    application = (
        Application.objects.select_related("applicant", "product").filter(pk=application_id).first()
    )
    # The linked borrower's verified address, never one staff typed for an existing borrower.
    recipient = application and selectors.applicant_contact_email(application.applicant)
    if application is None or not recipient:
        return False
    borrower = application.applicant.borrower
    if borrower is not None and borrower.email_opt_out and event not in ("decision_declined",):
        return False
    context = {
        "application": application,
        "applicant": application.applicant,
        "offer": selectors.application_offer(application),
        "decision": selectors.application_latest_decision(application),
        "event": event,
        "request": application.audit_entries.filter(action="documents_requested")
        .order_by("-id")
        .first(),
    }
    text = render_to_string(f"origination/email/{event}.txt", context)
    html = render_to_string(f"origination/email/{event}.html", context)
    message = EmailMultiAlternatives(
        subject=f"{SUBJECTS[event]} (application {application.pk})",
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )
    message.attach_alternative(html, "text/html")
    if event == "decision_declined":
        notice = application.documents.filter(
            doc_type=Document.DocType.ADVERSE_ACTION_NOTICE
        ).first()
        if notice is not None:
            with default_storage.open(notice.storage_name, "rb") as fh:
                message.attach(notice.original_name, fh.read(), "application/pdf")
    sent, _ = effect_once(key=f"{NOTIFICATION_RECEIPT}:{delivery_id}", effect=message.send)
    return sent


def invitation_send(*, invitation_id: int, token: str, delivery_id: str) -> bool:
    """The invitation to the borrower's verified address (kept on the invitation): a link to
    the portal, where they sign in and accept or decline."""
    invitation = (
        BorrowerInvitation.objects.select_related("applicant", "borrower", "created_by")
        .filter(pk=invitation_id, status=BorrowerInvitation.Status.PENDING)
        .first()
    )
    if invitation is None:
        return False
    path = reverse("origination:portal-invitation-token", kwargs={"token": token})
    context = {
        "invitation": invitation,
        "borrower": invitation.borrower,
        "applications": list(invitation.applicant.applications.select_related("product")),
        "url": f"{getattr(settings, 'SITE_URL', '')}{path}",
    }
    text = render_to_string("origination/email/invitation.txt", context)
    html = render_to_string("origination/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject="A loan officer started an application in your name",
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    message.attach_alternative(html, "text/html")
    sent, _ = effect_once(key=f"{INVITATION_RECEIPT}:{delivery_id}", effect=message.send)
    return sent
