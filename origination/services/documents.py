"""Documents: upload (sniffed, superseding rejected ones), review, request, open; the
generated PDFs (TILA, agreement, adverse-action notice)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from lendcore.core.state import transition
from lendcore.core.uploads import UploadRefused, inspect_upload
from origination import effects, pdfs, selectors
from origination.errors import DocumentFileMissing, InvalidTransition, ValidationFailed
from origination.lock_objects import application_lock, document_lock
from origination.models import Application, Document, DocumentEvent
from origination.selectors import application_decline_reasons
from origination.services._common import FieldErrors, S, audit, user_or_none

logger = logging.getLogger(__name__)

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def _max_document_bytes() -> int:
    return int(getattr(settings, "ORIGINATION_DOCUMENT_MAX_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def _store_bytes(data: bytes, *, folder: str) -> str:
    name = f"origination/{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    return default_storage.save(name, ContentFile(data))


def document_upload(
    *, application: Application, acting_user: Any, doc_type: str, file: Any
) -> Document:
    """Store an uploaded file once its bytes parse as a plain PDF or image
    (`lendcore.core.uploads`), under a generated name; a re-upload supersedes rejected ones."""
    errors = FieldErrors()
    if doc_type not in Document.UPLOAD_TYPES:
        errors.add("doc_type", f"{doc_type!r} is not one of: {', '.join(Document.UPLOAD_TYPES)}.")
    limit = _max_document_bytes()
    data = b""
    if file is None:
        errors.add("file", "A file is required.")
    else:
        chunks, size = [], 0
        for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        data = b"".join(chunks)
        if not data:
            errors.add("file", "The file is empty.")
        elif len(data) > limit:
            errors.add("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
        else:
            try:
                kind = inspect_upload(data)
            except UploadRefused as refused:
                errors.add("file", str(refused))
    errors.raise_if_any()
    if not application.accepts_documents():
        raise InvalidTransition(
            f"Documents cannot be added to an application that is {application.status}."
        )
    content_type = kind.content_type
    storage_name = _store_bytes(data, folder="documents")  # before the transaction: may be S3
    with transaction.atomic():
        locked = application_lock(application_id=application.pk)
        if not locked.accepts_documents():
            default_storage.delete(storage_name)
            raise InvalidTransition(
                f"Documents cannot be added to an application that is {locked.status}."
            )
        for previous in locked.documents.filter(doc_type=doc_type, status=Document.Status.REJECTED):
            transition(previous, to="superseded", acting_user=acting_user, reason="re-uploaded")
        document = Document.objects.create(
            application=locked,
            doc_type=doc_type,
            storage_name=storage_name,
            original_name=str(getattr(file, "name", "") or "")[:255],
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user_or_none(acting_user),
        )
        DocumentEvent.objects.create(
            document=document, actor=user_or_none(acting_user), from_status="", to_status="pending"
        )
    return document


def document_generated(
    *, application: Application, doc_type: str, data: bytes, name: str, acting_user: Any
) -> Document:
    storage_name = _store_bytes(data, folder="generated")
    document = Document.objects.create(
        application=application,
        doc_type=doc_type,
        status=Document.Status.ACCEPTED,
        storage_name=storage_name,
        original_name=name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user_or_none(acting_user),
    )
    return document


@transaction.atomic
def document_review(
    *, document: Document, acting_user: Any, status: str, reason: str = ""
) -> Document:
    """Staff accept or reject an uploaded document (a rejection needs a reason)."""
    if status not in ("accepted", "rejected"):
        raise ValidationFailed.for_fields({"status": ["Must be accepted or rejected."]})
    if status == "rejected" and not reason.strip():
        raise ValidationFailed.for_fields({"reason": ["A rejection needs a reason."]})
    document = document_lock(document_id=document.pk)
    document.review_reason = reason
    document.reviewed_by = user_or_none(acting_user)
    document.reviewed_at = timezone.now()
    transition(
        document,
        to=status,
        acting_user=acting_user,
        reason=reason,
        update_fields=["review_reason", "reviewed_by", "reviewed_at"],
    )
    return document


def application_documents_request(
    *, application: Application, acting_user: Any, doc_types: list[str], message: str = ""
) -> Application:
    """Staff ask the borrower for documents: audited, and e-mailed after commit."""
    bad = [t for t in doc_types if t not in Document.UPLOAD_TYPES]
    if not doc_types or bad:
        raise ValidationFailed.for_fields(
            {"doc_types": [f"Choose from: {', '.join(Document.UPLOAD_TYPES)}."]}
        )
    if not application.accepts_documents():
        raise InvalidTransition(
            f"Documents cannot be requested for an application that is {application.status}."
        )
    with transaction.atomic():
        audit(
            action="documents_requested",
            acting_user=acting_user,
            application=application,
            doc_types=doc_types,
            message=message,
        )
        effects.notification_on_commit(application.pk, "documents_requested")
    return application


def document_open(*, document: Document, acting_user: Any = None, purpose: str = "download"):
    """The stored bytes. Opened for a person (`acting_user`), it is audited: a download or a
    preview of a document is a view of personal data. Bytes missing from storage are a 404
    naming it, and an error in the log for whoever runs the storage."""
    try:
        handle = default_storage.open(document.storage_name, "rb")
    except (FileNotFoundError, OSError):
        logger.error(
            "Document %s (application %s) has no file in storage at %s",
            document.pk,
            document.application_id,
            document.storage_name,
        )
        raise DocumentFileMissing(
            "This document's file is missing from storage; the lender has been told."
        ) from None
    if acting_user is not None:
        audit(
            action="document_viewed",
            acting_user=acting_user,
            application=document.application,
            document=document.pk,
            doc_type=document.doc_type,
            purpose=purpose,
        )
    return handle


# --- adverse action ----------------------------------------------------------------------------


def adverse_action_notice_create(*, application_id: int, acting_user: Any = None) -> Document:
    """Render and store the adverse-action notice of a declined application (idempotent)."""

    application = Application.objects.select_related("applicant", "product").get(pk=application_id)
    existing = application.documents.filter(doc_type=Document.DocType.ADVERSE_ACTION_NOTICE).first()
    if existing is not None:
        return existing
    if application.status != S.DECLINED:
        raise InvalidTransition("Only a declined application has an adverse-action notice.")
    decision = selectors.application_latest_decision(application)
    report = decision.bureau_report if decision is not None else None
    data = pdfs.adverse_action_pdf(
        application=application,
        reasons=application_decline_reasons(application),
        report=report,
    )
    with transaction.atomic():
        application_lock(application_id=application_id)
        existing = application.documents.filter(
            doc_type=Document.DocType.ADVERSE_ACTION_NOTICE
        ).first()
        if existing is not None:
            return existing
        document = document_generated(
            application=application,
            doc_type=Document.DocType.ADVERSE_ACTION_NOTICE,
            data=data,
            name=f"adverse-action-notice-{application.pk}.pdf",
            acting_user=acting_user,
        )
        effects.notification_on_commit(application.pk, "decision_declined")
    return document
