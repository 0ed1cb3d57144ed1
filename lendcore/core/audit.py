"""The audit trail: `audit_record()` writes one append-only `AuditEvent`. Every app records
through here (sign-ins, tokens, PII, documents, exports); `audit_selectors` reads it."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

from .client_ip import client_ip
from .models import AuditEvent


class Action:
    """The actions recorded (a field of free text in the table; these are the ones in use)."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    TOKEN_ISSUED = "token_issued"
    TOKEN_REVOKED = "token_revoked"
    TWO_FACTOR_ENROLLED = "two_factor_enrolled"
    TWO_FACTOR_FAILED = "two_factor_failed"
    AUDIT_EXPORTED = "audit_exported"
    SSN_REVEALED = "ssn_revealed"
    DOCUMENT_VIEWED = "document_viewed"
    GL_EXPORTED = "gl_exported"
    LOAN_TAPE_EXPORTED = "loan_tape_exported"
    FIELD_KEYS_ROTATED = "field_keys_rotated"
    EXTERNAL_ID_SET = "external_id_set"


# The client address of the request being served, so that a service (which takes no request)
# still records where an action came from. Set by AuditContextMiddleware.
_client_ip: ContextVar[str] = ContextVar("audit_client_ip", default="")


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    actor_name: str = "",
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    object_label: str = "",
    **detail: Any,
) -> AuditEvent:
    """Record `action` by `actor` (or the request's user) on `obj` (or the given type/id),
    with the client's address when there is a request."""
    if actor is None and request is not None and not actor_name:
        actor = getattr(request, "user", None)
    known = actor is not None and getattr(actor, "pk", None) is not None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)
    return AuditEvent.objects.create(
        action=action,
        actor_id=actor.pk if known else None,
        actor_name=(actor.get_username() if known else actor_name)[:150],
        ip=client_ip(request) if request is not None else _client_ip.get(),
        object_type=object_type[:50],
        object_id=str(object_id)[:50],
        object_label=str(object_label)[:200],
        detail=detail,
    )
