"""Sign-ins, failed sign-ins and sign-outs go to the audit trail (every login path: the
portal and staff login, the admin, the API token endpoint)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lendcore.core.audit import Action, audit_record


def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.LOGIN, actor=user, request=request)


def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # what was typed as the username (Django masks the password in `credentials`)
    audit_record(
        action=Action.LOGIN_FAILED,
        request=request if isinstance(request, HttpRequest) else None,
        actor_name=str(credentials.get("username", "")),
    )


def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, request=request)
