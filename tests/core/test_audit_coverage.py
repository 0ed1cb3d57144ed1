"""The audit trail covers PII reveals, document views and GL exports, each with the user, the
client address and the object; origination's actions land in it too (issue 10, point 11)."""

from __future__ import annotations

import pytest

from lendcore.core.models import AuditEvent
from origination.models import Application, Document
from tests.origination.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(loan_officer, borrower) -> Application:
    return ApplicationFactory(with_documents=True, acting_user=loan_officer)


def test_an_ssn_reveal_names_the_user_the_application_and_the_address(
    client, underwriter, application
):
    client.force_login(underwriter)
    url = f"/staff/applications/{application.pk}/reveal-ssn/"
    response = client.post(url, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="ssn_revealed")
    assert event.actor_name == underwriter.username
    assert event.ip == "203.0.113.7"
    assert event.object_type == "origination.application"
    assert event.object_id == str(application.pk)


def test_a_document_download_and_preview_are_audited(client, loan_officer, application):
    client.force_login(loan_officer)
    document = Document.objects.filter(application=application).first()
    response = client.get(f"/documents/{document.pk}/download/", REMOTE_ADDR="198.51.100.2")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="document_viewed")
    assert event.actor_name == loan_officer.username
    assert event.ip == "198.51.100.2"
    assert event.detail["document"] == document.pk
    assert event.detail["purpose"] == "download"


def test_the_api_document_download_is_audited(api_client, loan_officer, application):
    api_client.force_authenticate(loan_officer)
    document = Document.objects.filter(application=application).first()
    response = api_client.get(f"/api/v1/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert (
        AuditEvent.objects.filter(action="document_viewed", actor_id=loan_officer.pk).count() == 1
    )


def test_a_gl_export_is_audited(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.get(
        "/api/v1/gl/export/?from=2026-01-01&to=2026-01-31", REMOTE_ADDR="192.0.2.9"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="gl_exported")
    assert event.actor_name == admin_user.username
    assert event.ip == "192.0.2.9"
    assert event.detail == {"date_from": "2026-01-01", "date_to": "2026-01-31"}


def test_origination_actions_outlive_their_application(loan_officer, application):
    assert AuditEvent.objects.filter(action="applicant_created").exists()
    application_id = application.pk
    Application.objects.filter(pk=application_id).delete()
    kept = AuditEvent.objects.filter(object_type="origination.applicant")
    assert kept.exists()
