"""The acceptance flow through the API, end to end (run on SQLite and on PostgreSQL):
applicant -> application -> documents -> submit -> decision (referred) -> two underwriters
approve -> offer -> accept -> disburse twice with one key -> exactly one loan."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from origination.models import Application, Document
from servicing.models import Loan

from .factories import PDF

pytestmark = pytest.mark.django_db

APPLICANT = {
    "first_name": "Carol",
    "last_name": "Clark",
    "date_of_birth": "1985-04-02",
    "ssn": "123-45-5555",
    "email": "carol@example.com",
    "phone": "+1 555 0100",
    "address_line1": "1 Elm Street",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "employer": "Acme",
    "months_employed": 40,
    "monthly_income": "8000.00",
    "monthly_housing_payment": "1500.00",
    "monthly_other_debts": "300.00",
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_api_flow_referred_four_eyes_accept_disburse_once(
    product,
    borrower,
    loan_officer,
    underwriter,
    underwriter2,
    django_capture_on_commit_callbacks,
):
    me = client_for(borrower.user)
    # Given an applicant and an application made by the borrower on the portal
    response = me.post("/api/v1/applicants/", APPLICANT, format="json")
    assert response.status_code == 201, response.json()
    applicant = response.json()
    assert applicant["ssn_last4"] == "5555"
    assert "ssn" not in applicant

    response = me.post(
        "/api/v1/applications/",
        {
            "applicant": applicant["id"],
            "product": product.pk,
            "amount": "30000.00",
            "term": 60,
            "frequency": "monthly",
            "purpose": "Home improvement",
            "external_id": "ext-flow-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    app_id = response.json()["id"]
    assert response.json()["status"] == "draft"

    # When the documents are uploaded and it is submitted
    for doc_type in ("id_proof", "proof_of_income"):
        upload = SimpleUploadedFile(f"{doc_type}.pdf", PDF, content_type="application/pdf")
        response = me.post(
            f"/api/v1/applications/{app_id}/documents/",
            {"doc_type": doc_type, "file": upload},
            format="multipart",
        )
        assert response.status_code == 201, response.json()
    with django_capture_on_commit_callbacks(execute=True):
        response = me.post(f"/api/v1/applications/{app_id}/submit/")
    assert response.status_code == 200, response.json()

    # Then the decision refers it (score 650)
    decision = me.get(f"/api/v1/applications/{app_id}/decision/").json()
    assert decision["outcome"] == "refer"
    assert "score" not in decision  # the borrower reads the outcome and its reasons only
    assert {"code", "text"} <= set(decision["reasons"][0])
    assert me.get(f"/api/v1/applications/{app_id}/").json()["status"] == "referred"

    # Two different underwriters approve (30,000 is above the four-eyes limit)
    first = client_for(underwriter).post(
        f"/api/v1/applications/{app_id}/approve/", {}, format="json"
    )
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "referred"
    again = client_for(underwriter).post(
        f"/api/v1/applications/{app_id}/approve/", {}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "four_eyes_same_underwriter"
    with django_capture_on_commit_callbacks(execute=True):
        second = client_for(underwriter2).post(
            f"/api/v1/applications/{app_id}/approve/", {}, format="json"
        )
    assert second.status_code == 200, second.json()
    assert second.json()["status"] == "approved"

    offer = me.get(f"/api/v1/applications/{app_id}/offer/").json()
    for field in (
        "amount",
        "annual_rate",
        "term",
        "payment",
        "apr",
        "finance_charge",
        "amount_financed",
        "total_of_payments",
        "first_due_date",
        "installments",
    ):
        assert field in offer
    assert offer["amount"] == "30000.00"
    assert offer["amount_financed"] == "29100.00"  # 3 % prepaid origination fee
    assert len(offer["installments"]) == 60

    # The borrower accepts with a typed name
    with django_capture_on_commit_callbacks(execute=True):
        response = me.post(
            f"/api/v1/applications/{app_id}/accept-offer/",
            {"signature_name": "Carol Clark", "disbursement_account": "5500-0000-4321"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "offer_accepted"
    assert response.json()["disbursement_account"] == "••••4321"
    assert response.json()["offer"]["signature_name"] == "Carol Clark"
    types = set(Document.objects.filter(application_id=app_id).values_list("doc_type", flat=True))
    assert {"tila_disclosure", "loan_agreement"} <= types

    # A loan officer disburses twice with one key: exactly one loan
    officer = client_for(loan_officer)
    body = {"method": "ach", "reference": "ACH-123"}
    with django_capture_on_commit_callbacks(execute=True):
        one = officer.post(
            f"/api/v1/applications/{app_id}/disburse/",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY="k1",
        )
    two = officer.post(
        f"/api/v1/applications/{app_id}/disburse/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert one.status_code == 200, one.json()
    assert two.status_code == 200
    assert two["Idempotent-Replayed"] == "true"
    assert one.json() == two.json()
    assert one.json()["status"] == "disbursed"
    loan_id = one.json()["loan"]
    assert loan_id is not None
    three = officer.post(
        f"/api/v1/applications/{app_id}/disburse/", body, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    assert three.json()["loan"] == loan_id
    assert Loan.objects.count() == 1
    loan = Loan.objects.get()
    assert loan.borrower_id == borrower.pk
    assert Application.objects.get(pk=app_id).loan_id == loan.pk
