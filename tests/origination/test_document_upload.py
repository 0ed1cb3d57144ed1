"""document_upload (sniffing, limits, SHA-256, random names) and document_review."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from origination import services
from origination.errors import InvalidTransition, ValidationFailed
from origination.models import Document

from .factories import JPEG, PDF, PNG

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_upload_sniffs_the_bytes_and_records_the_hash(
    make_application, loan_officer, data, content_type
):
    application = make_application(with_documents=False)
    document = services.document_upload(
        application=application,
        acting_user=loan_officer,
        doc_type="id_proof",
        file=ContentFile(data, name="passport.exe"),  # the name says nothing
    )
    assert document.content_type == content_type
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size == len(data)
    assert "passport" not in document.storage_name
    assert default_storage.exists(document.storage_name)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a not accepted", "Only PDF, JPEG and PNG"),
        (b"<html>%PDF-</html>", "Only PDF, JPEG and PNG"),
        # issue 10, point 8: the audit's polyglot, a PDF header followed by HTML
        (b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>", "markup"),
        (PDF + b"<svg onload=alert(1)>", "markup"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "could not be read"),
        (PNG + b"trailing payload", "after its end"),
    ],
)
def test_empty_or_wrong_content_is_400_and_stores_nothing(
    make_application, loan_officer, data, message
):
    application = make_application(with_documents=False)
    with pytest.raises(ValidationFailed) as excinfo:
        services.document_upload(
            application=application,
            acting_user=loan_officer,
            doc_type="id_proof",
            file=ContentFile(data, name="x.pdf"),
        )
    assert message in excinfo.value.extra["fields"]["file"][0]
    assert Document.objects.count() == 0


def test_too_big_is_400(make_application, loan_officer, settings):
    settings.ORIGINATION_DOCUMENT_MAX_BYTES = 1024
    application = make_application(with_documents=False)
    with pytest.raises(ValidationFailed) as excinfo:
        services.document_upload(
            application=application,
            acting_user=loan_officer,
            doc_type="id_proof",
            file=ContentFile(PDF + b"0" * 2000, name="big.pdf"),
        )
    assert "larger than" in excinfo.value.extra["fields"]["file"][0]
    assert Document.objects.count() == 0


def test_unknown_type_is_400(make_application, loan_officer):
    application = make_application(with_documents=False)
    with pytest.raises(ValidationFailed) as excinfo:
        services.document_upload(
            application=application,
            acting_user=loan_officer,
            doc_type="selfie",
            file=ContentFile(PDF, name="x.pdf"),
        )
    assert "doc_type" in excinfo.value.extra["fields"]


def test_review_reject_then_reupload_supersedes(make_application, loan_officer):
    application = make_application()
    document = application.documents.get(doc_type="id_proof")
    with pytest.raises(ValidationFailed):
        services.document_review(document=document, acting_user=loan_officer, status="rejected")
    services.document_review(
        document=document, acting_user=loan_officer, status="rejected", reason="Blurry"
    )
    document.refresh_from_db()
    assert (document.status, document.review_reason) == ("rejected", "Blurry")
    from origination import selectors

    assert selectors.application_missing_document_types(application) == ["id_proof"]
    services.document_upload(
        application=application,
        acting_user=loan_officer,
        doc_type="id_proof",
        file=ContentFile(PDF, name="again.pdf"),
    )
    document.refresh_from_db()
    assert document.status == "superseded"
    assert selectors.application_missing_document_types(application) == []
    accepted = application.documents.get(doc_type="id_proof", status="pending")
    services.document_review(document=accepted, acting_user=loan_officer, status="accepted")
    assert [e.to_status for e in accepted.events.all()] == ["pending", "accepted"]


def test_no_uploads_after_a_decline(decided, loan_officer):
    application = decided("1111")
    with pytest.raises(InvalidTransition):
        services.document_upload(
            application=application,
            acting_user=loan_officer,
            doc_type="other",
            file=ContentFile(PDF, name="x.pdf"),
        )


def test_staff_request_documents_e_mails_the_borrower(
    make_application, loan_officer, django_capture_on_commit_callbacks
):
    from django.core import mail

    from origination.models import AuditEntry

    application = make_application(with_documents=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.application_documents_request(
            application=application,
            acting_user=loan_officer,
            doc_types=["bank_statement"],
            message="Last three months, please.",
        )
    assert AuditEntry.objects.filter(action="documents_requested").count() == 1
    assert "bank_statement" in mail.outbox[0].body
    assert "Last three months" in mail.outbox[0].body
    with pytest.raises(ValidationFailed):
        services.application_documents_request(
            application=application, acting_user=loan_officer, doc_types=["selfie"]
        )


def test_a_download_is_named_by_the_server_not_the_uploader(make_application, loan_officer):
    application = make_application(with_documents=False)
    document = services.document_upload(
        application=application,
        acting_user=loan_officer,
        doc_type="id_proof",
        file=ContentFile(PNG, name='"><img src=x onerror=alert(1)>.html'),
    )
    assert document.download_name() == f"id_proof-{document.pk}.png"
