"""A document whose bytes are gone from storage answers 404 naming it, never a 500 (found by
schemathesis), on the API and the staff download alike, and no view of it is audited."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from lendcore.core.models import AuditEvent
from origination.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost_document(make_application) -> Document:
    application = make_application()
    document = Document.objects.filter(application=application).first()
    default_storage.delete(document.storage_name)
    return document


def test_the_api_download_of_a_lost_file_is_a_404_naming_it(loan_officer, lost_document, caplog):
    client = APIClient()
    client.force_authenticate(loan_officer)
    response = client.get(f"/api/v1/documents/{lost_document.pk}/download/")
    assert response.status_code == 404
    assert response.json()["code"] == "document_file_missing"
    assert not AuditEvent.objects.filter(action="document_viewed").exists()
    assert any("no file in storage" in r.getMessage() for r in caplog.records)


def test_the_staff_download_of_a_lost_file_is_a_404(client, loan_officer, lost_document):
    client.force_login(loan_officer)
    response = client.get(f"/documents/{lost_document.pk}/download/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="document_viewed").exists()
