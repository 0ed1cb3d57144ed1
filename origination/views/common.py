"""Helpers shared by the staff and portal views: presentation only, no writes."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.http import FileResponse, Http404
from django.utils import timezone

from lendcore.accounts.selectors import user_can
from lendcore.errors import ApplicationError, NotFound
from origination import selectors, services
from origination.models import Application, Document

PREVIEW_MAX_BYTES = 5 * 1024 * 1024
GENERATED_TYPES = ("adverse_action_notice", "tila_disclosure", "loan_agreement")

# The path an application takes, for the status timeline (terminal side branches aside).
HAPPY_PATH = (
    ("draft", "Started"),
    ("submitted", "Submitted"),
    ("in_review", "In review"),
    ("approved", "Approved"),
    ("offer_accepted", "Offer accepted"),
    ("disbursed", "Disbursed"),
)


def has_perm(user: Any, codename: str) -> bool:
    return user_can(user, codename)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def application_or_404(user: Any, application_id: int) -> Application:
    try:
        return selectors.application_get(user=user, application_id=application_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def document_or_404(user: Any, document_id: int) -> Document:
    try:
        return selectors.document_get(user=user, document_id=document_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def error_status(error: ApplicationError) -> int:
    return int(getattr(error, "http_status", 400) or 400)


def age_label(since: datetime | None, now: datetime | None = None) -> str:
    """ "3d 4h", "5h 12m", "8m": how long an application has waited."""
    if since is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - since).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def status_steps(application: Application) -> list[dict[str, Any]]:
    """The happy path with each step done, current or to come; a side exit is appended."""
    order = [key for key, _ in HAPPY_PATH]
    status = application.status
    reached = {e.to_status: e.created_at for e in application.events.all()}
    side = status not in order
    if status == "referred":
        current_index = order.index("in_review")
    elif side:
        last = [e.to_status for e in application.events.all() if e.to_status in order]
        current_index = order.index(last[-1]) if last else 0
    else:
        current_index = order.index(status)
    steps = []
    for i, (key, label) in enumerate(HAPPY_PATH):
        state = "done" if i < current_index else "current" if i == current_index else "todo"
        if side and status != "referred" and i == current_index:
            state = "done"
        steps.append({"key": key, "label": label, "state": state, "at": reached.get(key)})
    if status == "referred":
        steps[current_index]["label"] = "Under manual review"
    if side and status != "referred":
        steps.append(
            {
                "key": status,
                "label": Application.Status(status).label,
                "state": "stopped",
                "at": reached.get(status),
            }
        )
    return steps


def document_response(document: Document, *, viewer: Any) -> FileResponse:
    """The stored bytes as an attachment; never rendered inline by the browser (audited)."""
    try:
        handle = services.document_open(document=document, acting_user=viewer)
    except NotFound as exc:  # the file is missing from storage
        raise Http404(exc.message) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.download_name(),  # never the uploader's name
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def image_data_uri(document: Document, *, viewer: Any) -> str | None:
    """A data: URI of an image document (sniffed PNG/JPEG only) for an inline preview."""
    if document.content_type not in ("image/png", "image/jpeg"):
        return None
    if document.size > PREVIEW_MAX_BYTES:
        return None
    with services.document_open(document=document, acting_user=viewer, purpose="preview") as handle:
        data = handle.read(PREVIEW_MAX_BYTES + 1)
    if services.sniff_content_type(data[:16]) != document.content_type:
        return None
    return f"data:{document.content_type};base64,{base64.b64encode(data).decode()}"
