"""offer_accept (e-signature, PDFs) and offers_expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from origination import services
from origination.errors import InvalidTransition, OfferExpired, ValidationFailed
from origination.models import Application, AuditEntry, Document, Offer

pytestmark = pytest.mark.django_db


def test_accept_records_signature_time_ip_and_stores_the_pdfs(accepted):
    application = accepted()
    offer = application.offer
    assert application.status == Application.Status.OFFER_ACCEPTED
    assert offer.status == "accepted"
    assert offer.signature_name == "Carol Clark"
    assert offer.signature_ip == "203.0.113.7"
    assert offer.accepted_at is not None
    assert not offer.accepted_on_behalf
    docs = {d.doc_type: d for d in application.documents.all()}
    for doc_type in (Document.DocType.TILA_DISCLOSURE, Document.DocType.LOAN_AGREEMENT):
        with services.document_open(document=docs[doc_type]) as fh:
            assert fh.read(5) == b"%PDF-"


def test_accepting_on_behalf_with_the_permission_is_audited(decided, admin_user):
    application = decided("9999")
    services.offer_accept(
        application=application,
        acting_user=admin_user,
        signature_name="Pat Tester",
        ip_address="10.0.0.1",
    )
    assert AuditEntry.objects.filter(action="offer_accepted_on_behalf").count() == 1
    assert Offer.objects.get(application=application).accepted_on_behalf


def test_accepting_an_expired_offer_is_409_and_changes_nothing(decided, borrower):
    application = decided("9999")
    Offer.objects.filter(application=application).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(OfferExpired) as excinfo:
        services.offer_accept(
            application=application, acting_user=borrower.user, signature_name="X", ip_address=None
        )
    assert excinfo.value.http_status == 409
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.offer.status == "open"
    assert not application.documents.filter(doc_type="loan_agreement").exists()


def test_accepting_twice_is_409(accepted, borrower):
    application = accepted()
    with pytest.raises(InvalidTransition):
        services.offer_accept(
            application=application, acting_user=borrower.user, signature_name="X", ip_address=None
        )


def test_a_signature_is_required(decided, borrower):
    application = decided("9999")
    with pytest.raises(ValidationFailed):
        services.offer_accept(
            application=application, acting_user=borrower.user, signature_name="  ", ip_address=None
        )


def test_offers_expire_after_the_validity(decided, borrower):
    application = decided("9999")
    assert services.offers_expire() == 0
    later = timezone.now() + timedelta(days=31)
    assert services.offers_expire(now=later) == 1
    application.refresh_from_db()
    assert application.status == Application.Status.EXPIRED
    assert application.offer.status == "expired"
    with pytest.raises(OfferExpired):
        services.offer_accept(
            application=application, acting_user=borrower.user, signature_name="X", ip_address=None
        )
    assert services.offers_expire(now=later) == 0  # replay: nothing more
