"""The borrower portal: apply in steps, documents, submit, the offer, the notice; isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from lendcore.core import crypto
from origination.models import Applicant, Application, Document, Offer
from tests.origination.factories import PDF, ApplicantFactory

from .conftest import PNG

pytestmark = pytest.mark.django_db

APPLY = reverse("origination:portal-apply")
NEW = reverse("origination:portal-apply-new")
DETAILS = reverse("origination:portal-apply-details")
REVIEW = reverse("origination:portal-apply-review")
QUOTE = reverse("origination:portal-apply-quote")

ABOUT = {
    "first_name": "Carol",
    "last_name": "Clark",
    "date_of_birth": "1985-04-02",
    "ssn": "123-45-9999",
    "email": "carol@example.com",
    "phone": "+1 555 0100",
    "address_line1": "1 Elm Street",
    "city": "Springfield",
    "state": "il",
    "postal_code": "62701",
    "employer": "Acme",
    "months_employed": "40",
    "monthly_income": "8,000",
    "monthly_housing_payment": "1500",
    "monthly_other_debts": "300",
}


@pytest.fixture
def terms(product) -> dict:
    return {"product": product.pk, "amount": "10000", "term": "36", "frequency": "monthly"}


def app_url(name: str, application) -> str:
    return reverse(f"origination:portal-{name}", args=[application.pk])


def test_apply_needs_a_login_and_a_borrower(client_for, loan_officer, borrower):
    assert client_for(None).get(APPLY).status_code == 302
    assert client_for(loan_officer).get(APPLY).status_code == 403
    assert client_for(borrower.user).get(APPLY).status_code == 200


def test_live_quote_shows_an_estimate_per_tier(client_for, borrower, terms):
    response = client_for(borrower.user).get(QUOTE, terms, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    estimates = response.context["estimates"]
    assert [str(e["tier"].rate) for e in estimates] == ["8.99", "11.99", "17.99"]
    assert 'data-figure="payment"' in response.content.decode()


def test_live_quote_names_the_bad_field(client_for, borrower, terms):
    response = client_for(borrower.user).get(QUOTE, {**terms, "amount": "500"})
    assert response.status_code == 200
    assert response.context["estimates"] is None
    assert "Enter an amount between 1,000 and 50,000" in response.content.decode()


def test_apply_in_three_steps_creates_a_portal_draft(client_for, borrower, terms):
    client = client_for(borrower.user)
    page = client.get(NEW)
    assert page.status_code == 200
    assert "Your estimate" in page.content.decode()
    assert client.post(NEW, terms)["Location"] == DETAILS
    details = client.get(DETAILS)
    assert details.context["form"].initial["first_name"] == "Carol"
    assert client.post(DETAILS, ABOUT)["Location"] == REVIEW
    review = client.get(REVIEW).content.decode()
    assert "***-**-9999" in review
    assert "123-45-9999" not in review
    response = client.post(REVIEW)
    application = Application.objects.get()
    assert response["Location"] == app_url("application", application)
    assert application.channel == "portal"
    assert application.applicant.borrower == borrower
    assert application.applicant.state == "IL"
    assert application.status == "draft"
    assert "origination_apply" not in client.session


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "60000"}, "amount"),
        ({"term": "6"}, "term"),
        ({"frequency": "weekly"}, "frequency"),
        ({"amount": ""}, "amount"),
    ],
)
def test_terms_outside_the_product_are_400(client_for, borrower, terms, change, field):
    client = client_for(borrower.user)
    response = client.post(NEW, {**terms, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "origination_apply" not in client.session


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ssn": "123-45-678"}, "ssn", "nine digits"),
        ({"date_of_birth": str(timezone.localdate().replace(year=2015))}, "date_of_birth", "18"),
        ({"monthly_income": "0"}, "monthly_income", ""),
        ({"last_name": ""}, "last_name", "required"),
        ({"state": "Illinois"}, "state", ""),
    ],
)
def test_bad_details_are_400_and_create_nothing(
    client_for, borrower, terms, change, field, message
):
    client = client_for(borrower.user)
    client.post(NEW, terms)
    response = client.post(DETAILS, {**ABOUT, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert client.post(REVIEW).status_code == 302  # back to step 1: nothing to create
    assert not Applicant.objects.exists()
    assert not Application.objects.exists()


def _draft(client, terms) -> Application:
    client.post(NEW, terms)
    client.post(DETAILS, ABOUT)
    client.post(REVIEW)
    return Application.objects.get()


def _upload(client, application, doc_type, name, data):
    return client.post(
        app_url("upload", application),
        {"doc_type": doc_type, "file": SimpleUploadedFile(name, data)},
    )


def test_upload_submit_and_accept(client_for, borrower, terms, django_capture_on_commit_callbacks):
    client = client_for(borrower.user)
    application = _draft(client, terms)
    # Submitting without documents names the missing ones
    response = client.post(app_url("submit", application))
    assert response.status_code == 409  # well formed, not allowed yet
    assert "id_proof, proof_of_income" in response.content.decode()
    assert Application.objects.get().status == "draft"
    # Upload both, then submit: the sandbox approves 9999
    assert _upload(client, application, "id_proof", "id.png", PNG).status_code == 302
    assert _upload(client, application, "proof_of_income", "pay.pdf", PDF).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(app_url("submit", application))
    application.refresh_from_db()
    assert application.status == "approved"
    page = client.get(app_url("application", application)).content.decode()
    assert "See and accept your offer" in page
    # The offer page shows the federal box and the schedule
    offer_page = client.get(app_url("offer", application))
    body = offer_page.content.decode()
    assert "ANNUAL PERCENTAGE RATE" in body
    assert "Payment schedule" in body
    # Accept without the name: 400, nothing changes
    bad = client.post(app_url("offer", application), {"signature_name": "", "consent": "on"})
    assert bad.status_code == 400
    assert Offer.objects.get().status == "open"
    # Accept without the account the loan is paid to: 400 on that field
    no_account = client.post(
        app_url("offer", application), {"signature_name": "Carol Clark", "consent": "on"}
    )
    assert no_account.status_code == 400
    assert "Enter the account the loan is paid out to." in no_account.content.decode()
    assert Offer.objects.get().status == "open"
    # Accept with the typed name and the account: the IP is recorded
    ok = client.post(
        app_url("offer", application),
        {"signature_name": "Carol Clark", "consent": "on", "disbursement_account": "4400 1234"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert ok.status_code == 302
    offer = Offer.objects.get()
    assert (offer.status, offer.signature_name, offer.signature_ip) == (
        "accepted",
        "Carol Clark",
        "203.0.113.9",
    )
    assert Application.objects.get().status == "offer_accepted"
    assert Application.objects.get().disbursement_account_last4 == "1234"
    assert "••••1234" in client.get(app_url("offer", application)).content.decode()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "empty"),
        ("notes.pdf", b"just some text, not a PDF", "Only PDF, JPEG and PNG"),
    ],
)
def test_bad_uploads_are_400_and_store_nothing(client_for, borrower, terms, name, data, message):
    client = client_for(borrower.user)
    application = _draft(client, terms)
    response = _upload(client, application, "id_proof", name, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_too_big_upload_is_400(client_for, borrower, terms, settings):
    settings.ORIGINATION_DOCUMENT_MAX_BYTES = 1024
    client = client_for(borrower.user)
    application = _draft(client, terms)
    response = _upload(client, application, "id_proof", "big.png", PNG + b"\x00" * 2048)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not Document.objects.exists()


def test_reupload_after_rejection(client_for, borrower, terms, loan_officer):
    from origination import services

    client = client_for(borrower.user)
    application = _draft(client, terms)
    _upload(client, application, "id_proof", "id.png", PNG)
    document = Document.objects.get()
    services.document_review(
        document=document, acting_user=loan_officer, status="rejected", reason="Expired ID"
    )
    page = client.get(app_url("application", application)).content.decode()
    assert "Expired ID" in page
    assert "Please upload a new one" in page
    _upload(client, application, "id_proof", "id2.png", PNG)
    statuses = sorted(Document.objects.values_list("status", flat=True))
    assert statuses == ["pending", "superseded"]


def test_accepting_an_expired_offer_is_409(client_for, borrower, decided):
    applicant = ApplicantFactory(last4="9999", borrower=borrower, acting_user=borrower.user)
    application = decided(applicant=applicant)
    Offer.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client_for(borrower.user).post(
        app_url("offer", application), {"signature_name": "Carol Clark", "consent": "on"}
    )
    assert response.status_code == 409
    assert "expired" in response.content.decode()
    assert Offer.objects.get().status == "open"


def test_declined_shows_the_adverse_action_notice(client_for, borrower, decided):
    applicant = ApplicantFactory(last4="1111", borrower=borrower, acting_user=borrower.user)
    application = decided(applicant=applicant)
    assert application.status == "declined"
    client = client_for(borrower.user)
    page = client.get(app_url("application", application))
    notice = page.context["notice"]
    assert notice is not None
    assert 'data-action="adverse-action"' in page.content.decode()
    download = client.get(reverse("origination:document-download", args=[notice.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_a_borrower_sees_only_their_own_applications(client_for, borrower, other_borrower, decided):
    applicant = ApplicantFactory(last4="9999", borrower=borrower, acting_user=borrower.user)
    application = decided(applicant=applicant)
    document = application.documents.first()
    other = client_for(other_borrower.user)
    assert other.get(app_url("application", application)).status_code == 404
    assert other.get(app_url("offer", application)).status_code == 404
    assert other.post(app_url("submit", application)).status_code == 404
    assert (
        other.post(
            app_url("offer", application), {"signature_name": "Dave", "consent": "on"}
        ).status_code
        == 404
    )
    upload = other.post(
        app_url("upload", application),
        {"doc_type": "other", "file": SimpleUploadedFile("x.png", PNG)},
    )
    assert upload.status_code == 404
    assert (
        other.get(reverse("origination:document-download", args=[document.pk])).status_code == 404
    )
    assert f"#{application.pk}" not in other.get(APPLY).content.decode()
    assert Offer.objects.get().status == "open"
    assert application.documents.count() == 2
    # and the owner sees it
    mine = client_for(borrower.user)
    assert mine.get(app_url("application", application)).status_code == 200
    assert f"#{application.pk}" in mine.get(APPLY).content.decode()


def test_the_ssn_is_never_in_the_session_or_the_page_in_clear(client_for, borrower, terms):
    """Issue 10, point 6: between the steps the draft keeps the SSN encrypted, and no page
    writes it back (going back to step 2, or a step 2 with errors, asks for it again)."""
    client = client_for(borrower.user)
    client.post(NEW, terms)
    client.post(DETAILS, ABOUT)
    draft = client.session["origination_apply"]["applicant"]
    assert "ssn" not in draft
    assert "9999" not in draft["ssn_encrypted"]
    assert "123459999" not in str(dict(client.session))

    back = client.get(DETAILS).content.decode()
    assert "123-45-9999" not in back
    assert "123459999" not in back
    assert "On file: •••-••-9999" in back

    with_error = client.post(DETAILS, {**ABOUT, "ssn": "987-65-4321", "city": ""})
    assert with_error.status_code == 400
    assert "987-65-4321" not in with_error.content.decode()

    # Left blank, the SSN on file is kept; the application gets it.
    assert client.post(DETAILS, {**ABOUT, "ssn": "", "city": "Chicago"})["Location"] == REVIEW
    client.post(REVIEW)
    applicant = Application.objects.get().applicant
    assert crypto.decrypt(applicant.ssn_encrypted) == "123459999"
    assert applicant.city == "Chicago"


def test_the_date_of_birth_is_never_in_the_session_or_the_page_in_clear(
    client_for, borrower, terms
):
    """Issue 10, point 10: like the SSN, the draft keeps the date of birth encrypted (and its
    masked form, the year only); the review and the way back to step 2 show the mask."""
    client = client_for(borrower.user)
    client.post(NEW, terms)
    client.post(DETAILS, ABOUT)
    draft = client.session["origination_apply"]["applicant"]
    assert "date_of_birth" not in draft
    assert draft["date_of_birth_masked"] == "••/••/1985"
    assert crypto.decrypt(draft["date_of_birth_encrypted"]) == "1985-04-02"
    assert "1985-04-02" not in str(dict(client.session))

    for page in (client.get(REVIEW), client.get(DETAILS)):
        text = page.content.decode()
        assert "1985-04-02" not in text
        assert "April 2, 1985" not in text
        assert "••/••/1985" in text
    with_error = client.post(DETAILS, {**ABOUT, "date_of_birth": "1984-07-19", "city": ""})
    assert with_error.status_code == 400
    assert "1984-07-19" not in with_error.content.decode()

    # Left blank, the date on file is kept; the application gets it.
    assert client.post(DETAILS, {**ABOUT, "date_of_birth": ""})["Location"] == REVIEW
    client.post(REVIEW)
    assert Application.objects.get().applicant.date_of_birth.isoformat() == "1985-04-02"


def test_a_draft_saved_before_dates_were_encrypted_still_applies(client_for, borrower, terms):
    client = client_for(borrower.user)
    client.post(NEW, terms)
    client.post(DETAILS, ABOUT)
    session = client.session
    draft = session["origination_apply"]["applicant"]
    draft.pop("date_of_birth_encrypted")
    draft.pop("date_of_birth_masked")
    draft["date_of_birth"] = "1985-04-02"  # as earlier releases kept it
    session.save()
    assert "••/••/1985" in client.get(REVIEW).content.decode()
    client.post(REVIEW)
    assert Application.objects.get().applicant.date_of_birth.isoformat() == "1985-04-02"
