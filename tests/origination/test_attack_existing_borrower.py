"""Issue 10, point 1: one loan officer originated and disbursed a loan in an existing
borrower's name (applicant with `"borrower": 1` and the attacker's e-mail, submit, accept on
the borrower's behalf, disburse to an account of the officer's choosing). Replayed here
through the API exactly as the outside test did; none of it may reach the borrower's loans."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from origination.models import Application
from servicing.models import Loan

from .factories import PDF

pytestmark = pytest.mark.django_db

ATTACKER_EMAIL = "mallory@attacker.example"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_a_loan_officer_cannot_originate_and_disburse_in_an_existing_borrowers_name(
    product, borrower, loan_officer, django_capture_on_commit_callbacks
):
    officer = client_for(loan_officer)
    # Given the officer creates an applicant "for" borrower 1 with the attacker's e-mail
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            "/api/v1/applicants/",
            {
                "first_name": borrower.first_name,
                "last_name": borrower.last_name,
                "date_of_birth": "1985-04-02",
                "ssn": "123-45-9999",
                "email": ATTACKER_EMAIL,
                "address_line1": "1 Elm Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "monthly_income": "9000.00",
                "borrower": borrower.pk,
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    applicant = response.json()
    # Then the borrower is not linked, only invited, and nothing uses the attacker's address
    assert applicant["borrower"] is None
    assert applicant["invitation"]["status"] == "pending"
    assert applicant["email"] == borrower.user.email
    response = officer.post(
        "/api/v1/applications/",
        {
            "applicant": applicant["id"],
            "product": product.pk,
            "amount": "20000.00",
            "term": 36,
            "frequency": "monthly",
            "disbursement_account": "999988887777",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    app_id = response.json()["id"]
    for doc_type in ("id_proof", "proof_of_income"):
        upload = SimpleUploadedFile(f"{doc_type}.pdf", PDF, content_type="application/pdf")
        response = officer.post(
            f"/api/v1/applications/{app_id}/documents/",
            {"doc_type": doc_type, "file": upload},
            format="multipart",
        )
        assert response.status_code == 201, response.json()

    # When the officer submits before the borrower accepted the invitation: refused
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(f"/api/v1/applications/{app_id}/submit/")
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "borrower_invitation_pending"
    assert Application.objects.get(pk=app_id).status == "draft"

    # And the rest of the attack has nothing to work on
    response = officer.post(
        f"/api/v1/applications/{app_id}/accept-offer/",
        {"signature_name": borrower.full_name},
        format="json",
    )
    assert response.status_code == 409, response.json()
    response = officer.post(
        f"/api/v1/applications/{app_id}/disburse/",
        {"method": "ach", "reference": "999988887777"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="attack-1",
    )
    assert response.status_code == 409, response.json()
    assert not Loan.objects.filter(borrower=borrower).exists()
    # No e-mail went to the attacker; the invitation went to the borrower's own address
    recipients = {address for message in mail.outbox for address in message.to}
    assert ATTACKER_EMAIL not in recipients
    assert recipients == {borrower.user.email}
    me = client_for(borrower.user).get("/api/v1/applications/").json()
    assert me["count"] == 0


def test_a_loan_officer_reusing_the_borrowers_own_applicant_still_needs_the_borrower(
    product, borrower, borrower_applicant, loan_officer, django_capture_on_commit_callbacks
):
    # Given an application the officer starts on the borrower's own applicant record,
    # with an account of the officer's choosing, submitted and auto-approved
    officer = client_for(loan_officer)
    response = officer.post(
        "/api/v1/applications/",
        {
            "applicant": borrower_applicant.pk,
            "product": product.pk,
            "amount": "20000.00",
            "term": 36,
            "frequency": "monthly",
            "disbursement_account": "999988887777",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    app_id = response.json()["id"]
    for doc_type in ("id_proof", "proof_of_income"):
        upload = SimpleUploadedFile(f"{doc_type}.pdf", PDF, content_type="application/pdf")
        officer.post(
            f"/api/v1/applications/{app_id}/documents/",
            {"doc_type": doc_type, "file": upload},
            format="multipart",
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert officer.post(f"/api/v1/applications/{app_id}/submit/").status_code == 200
    assert Application.objects.get(pk=app_id).status == "approved"
    # When the officer accepts on the borrower's behalf: refused, only the borrower signs
    response = officer.post(
        f"/api/v1/applications/{app_id}/accept-offer/",
        {"signature_name": borrower.full_name},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "accept_on_behalf_not_allowed"
    response = officer.post(
        f"/api/v1/applications/{app_id}/disburse/",
        {"method": "ach", "reference": "999988887777"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="attack-2",
    )
    assert response.status_code == 409
    assert not Loan.objects.exists()
    # And the borrower, who sees it, is shown the account it would pay before signing
    offer = client_for(borrower.user).get(f"/api/v1/applications/{app_id}/").json()
    assert offer["disbursement_account"] == "••••7777"
    assert all(m.to == [borrower.user.email] for m in mail.outbox)
