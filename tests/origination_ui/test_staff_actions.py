"""Staff actions on an application: each happy path, and each error changing nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from origination import services
from origination.models import Application, Document, Offer, UnderwriterAction
from servicing.models import Loan
from tests.origination.factories import ApplicantFactory, ApplicationFactory

from .conftest import PNG

pytestmark = pytest.mark.django_db


def url(name: str, obj) -> str:
    return reverse(f"origination:staff-{name}", args=[obj.pk])


def status_of(application) -> str:
    return Application.objects.get(pk=application.pk).status


# --- approve / counter-offer -------------------------------------------------------------------


def test_underwriter_approves_a_referred_application(client_for, underwriter, decided):
    application = decided("5555")
    response = client_for(underwriter).post(url("approve", application), {})
    assert response.status_code == 302
    assert status_of(application) == "approved"
    assert Offer.objects.filter(application=application).exists()


def test_counter_offer_sets_the_offer_terms(client_for, underwriter, decided):
    application = decided("5555")
    client_for(underwriter).post(
        url("approve", application), {"amount": "8,000", "annual_rate": "15.5", "term": "24"}
    )
    offer = Offer.objects.get(application=application)
    assert (offer.amount, offer.annual_rate, offer.term) == (
        Decimal("8000.00"),
        Decimal("15.5000"),
        24,
    )


def test_counter_offer_outside_the_product_is_400_and_changes_nothing(
    client_for, underwriter, decided
):
    application = decided("5555")
    response = client_for(underwriter).post(url("approve", application), {"amount": "60000"})
    assert response.status_code == 400
    assert "Must be between" in response.content.decode()
    assert status_of(application) == "referred"
    assert not UnderwriterAction.objects.exists()


def test_approving_a_declined_application_is_409(client_for, underwriter, decided):
    application = decided("1111")
    assert application.status == "declined"
    response = client_for(underwriter).post(url("approve", application), {})
    assert response.status_code == 409
    assert "cannot be approved" in response.content.decode()
    assert status_of(application) == "declined"


def test_a_loan_officer_cannot_approve(client_for, loan_officer, decided):
    application = decided("5555")
    assert client_for(loan_officer).post(url("approve", application), {}).status_code == 403
    assert status_of(application) == "referred"


def test_self_approval_is_409(client_for, underwriter, product):
    applicant = ApplicantFactory(last4="5555", acting_user=underwriter)

    application = ApplicationFactory(
        applicant=applicant, product=product, acting_user=underwriter, with_documents=True
    )

    services.application_submit(application=application, acting_user=underwriter)
    services.application_decide(application_id=application.pk)
    assert status_of(application) == "referred"
    response = client_for(underwriter).post(url("approve", application), {})
    assert response.status_code == 409
    assert "cannot approve an application you created" in response.content.decode()
    assert status_of(application) == "referred"


def test_four_eyes_needs_two_different_underwriters(client_for, underwriter, underwriter2, decided):
    # Given a referred application above the 25,000 four-eyes limit
    application = decided("5555", amount=Decimal("30000.00"))
    first = client_for(underwriter)
    # When one underwriter approves, it stays referred awaiting a second approval
    first.post(url("approve", application), {})
    assert status_of(application) == "referred"
    page = first.get(url("application", application)).content.decode()
    assert "second, different underwriter" in page
    # And approving twice is refused
    again = first.post(url("approve", application), {})
    assert again.status_code == 409
    assert UnderwriterAction.objects.filter(application=application).count() == 1
    # Then a second underwriter approves it
    client_for(underwriter2).post(url("approve", application), {})
    assert status_of(application) == "approved"


# --- decline --------------------------------------------------------------------------------


def test_underwriter_declines_with_reasons(
    client_for, underwriter, decided, django_capture_on_commit_callbacks
):
    application = decided("5555")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(underwriter).post(
            url("decline", application),
            {"reasons": ["INCOME_INSUFFICIENT"], "other_reason": "Employment too short"},
        )
    assert response.status_code == 302
    assert status_of(application) == "declined"
    action = UnderwriterAction.objects.get(application=application)
    assert [r["text"] for r in action.reasons] == [
        "Income insufficient for amount of credit requested",
        "Employment too short",
    ]
    assert Document.objects.filter(
        application=application, doc_type="adverse_action_notice"
    ).exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "reasons": [
                "INCOME_INSUFFICIENT",
                "EXCESSIVE_OBLIGATIONS",
                "BANKRUPTCY",
                "LENGTH_OF_EMPLOYMENT",
                "INSUFFICIENT_CREDIT_FILE",
            ]
        },
    ],
)
def test_decline_needs_one_to_four_reasons(client_for, underwriter, decided, data):
    application = decided("5555")
    response = client_for(underwriter).post(url("decline", application), data)
    assert response.status_code == 400
    assert status_of(application) == "referred"


# --- documents ---------------------------------------------------------------------------------


def test_review_accepts_and_rejects_documents(client_for, loan_officer, make_application):
    application = make_application("9999")
    first, second = application.documents.order_by("id")
    client = client_for(loan_officer)
    client.post(url("document-review", first), {"status": "accepted"})
    client.post(url("document-review", second), {"status": "rejected", "reason": "Blurry scan"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.review_reason) == (
        "accepted",
        "rejected",
        "Blurry scan",
    )


def test_rejecting_without_a_reason_is_400_and_changes_nothing(
    client_for, loan_officer, make_application
):
    application = make_application("9999")
    document = application.documents.first()
    response = client_for(loan_officer).post(
        url("document-review", document), {"status": "rejected"}
    )
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    document.refresh_from_db()
    assert document.status == "pending"


def test_download_is_an_attachment_for_staff_and_owner_only(
    client_for, loan_officer, borrower, other_borrower, accepted
):
    application = accepted()
    document = application.documents.filter(doc_type="id_proof").first()
    link = reverse("origination:document-download", args=[document.pk])
    for user in (loan_officer, borrower.user):
        response = client_for(user).get(link)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(other_borrower.user).get(link).status_code == 404
    assert client_for(None).get(link).status_code == 302


def test_image_preview_is_inline_data(client_for, loan_officer, make_application):
    from django.core.files.base import ContentFile

    application = make_application("9999")
    document = services.document_upload(
        application=application,
        acting_user=loan_officer,
        doc_type="bank_statement",
        file=ContentFile(PNG, name="statement.png"),
    )
    response = client_for(loan_officer).get(url("document-preview", document))
    assert response.status_code == 200
    assert 'src="data:image/png;base64,' in response.content.decode()


# --- accept on behalf, disburse ------------------------------------------------------------------


def test_accept_on_behalf_needs_its_own_permission_and_is_audited(
    client_for, loan_officer, admin_user, decided, borrower
):
    applicant = ApplicantFactory(last4="9999", borrower=borrower, acting_user=borrower.user)
    application = decided(applicant=applicant)
    # A loan officer does not hold accept_on_behalf: the form is not offered and a POST is 409
    page = client_for(loan_officer).get(url("application", application)).content.decode()
    assert "Accept on the borrower&#x27;s behalf" not in page
    refused = client_for(loan_officer).post(
        url("accept-offer", application), {"signature_name": "Carol Clark", "consent": "on"}
    )
    assert refused.status_code == 409
    assert "accept_on_behalf" in refused.content.decode()
    assert Offer.objects.get(application=application).status == "open"
    # An admin (who holds it) may, audited
    response = client_for(admin_user).post(
        url("accept-offer", application), {"signature_name": "Carol Clark", "consent": "on"}
    )
    assert response.status_code == 302
    offer = Offer.objects.get(application=application)
    assert offer.status == "accepted"
    assert offer.accepted_on_behalf
    assert application.audit_entries.filter(action="offer_accepted_on_behalf").exists()


def test_disburse_twice_with_one_key_makes_one_loan(client_for, loan_officer, accepted):
    application = accepted()
    client = client_for(loan_officer)
    data = {"method": "ach", "reference": "ACH-1", "idempotency_key": str(uuid.uuid4())}
    first = client.post(url("disburse", application), data, follow=True)
    second = client.post(url("disburse", application), data, follow=True)
    assert status_of(application) == "disbursed"
    assert Loan.objects.count() == 1
    loan = Loan.objects.get()
    assert f"Loan {loan.loan_number} is boarded" in first.content.decode()
    assert f"Already disbursed: loan {loan.loan_number}" in second.content.decode()
    assert loan.loan_number in second.content.decode()


def test_disburse_before_acceptance_is_409(client_for, loan_officer, decided):
    application = decided("9999")
    data = {"method": "wire", "reference": "W-1", "idempotency_key": str(uuid.uuid4())}
    response = client_for(loan_officer).post(url("disburse", application), data)
    assert response.status_code == 409
    assert "offer must be accepted first" in response.content.decode()
    assert status_of(application) == "approved"
    assert not Loan.objects.exists()


def test_disburse_with_bad_input_is_400_and_a_fresh_key(client_for, loan_officer, accepted):
    application = accepted()
    key = str(uuid.uuid4())
    data = {"method": "cash", "reference": "", "idempotency_key": key}
    response = client_for(loan_officer).post(url("disburse", application), data)
    assert response.status_code == 400
    assert response.context["disburse_form"]["idempotency_key"].value() != key
    assert status_of(application) == "offer_accepted"


def test_an_underwriter_cannot_disburse(client_for, underwriter, accepted):
    application = accepted()
    data = {"method": "ach", "reference": "A", "idempotency_key": str(uuid.uuid4())}
    assert client_for(underwriter).post(url("disburse", application), data).status_code == 403
    assert status_of(application) == "offer_accepted"


def test_accepting_an_expired_offer_on_behalf_is_409(client_for, loan_officer, decided, borrower):
    applicant = ApplicantFactory(last4="9999", borrower=borrower, acting_user=borrower.user)
    application = decided(applicant=applicant)
    Offer.objects.filter(application=application).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    response = client_for(loan_officer).post(
        url("accept-offer", application), {"signature_name": "Carol Clark", "consent": "on"}
    )
    assert response.status_code == 409
    assert "expired" in response.content.decode()
    assert status_of(application) == "approved"


# --- request documents -----------------------------------------------------------------------


def test_request_documents_is_audited(client_for, loan_officer, make_application):
    application = make_application("9999", with_documents=False)
    response = client_for(loan_officer).post(
        url("request-documents", application),
        {"doc_types": ["id_proof", "bank_statement"], "message": "Last 3 months please"},
    )
    assert response.status_code == 302
    entry = application.audit_entries.get(action="documents_requested")
    assert entry.detail["doc_types"] == ["id_proof", "bank_statement"]


def test_request_documents_needs_a_type_and_an_open_application(
    client_for, loan_officer, decided, make_application
):
    application = make_application("9999", with_documents=False)
    client = client_for(loan_officer)
    assert client.post(url("request-documents", application), {}).status_code == 400
    declined = decided("1111")
    response = client.post(url("request-documents", declined), {"doc_types": ["other"]})
    assert response.status_code == 409
    assert not declined.audit_entries.filter(action="documents_requested").exists()
    assert not application.audit_entries.filter(action="documents_requested").exists()
