"""Servicing's server-rendered pages: the staff loan desk (staff.py) and the portal (portal.py).

Thin: parse a form, call one service or selector, then redirect with a message or draw the
page again with the errors. Mutations run once per form (its hidden Idempotency-Key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from lendcore.core.idempotency import IdempotentResponse, idempotent_execute
from lendcore.errors import ApplicationError
from servicing.forms import IdempotentForm


def run_once(
    request: HttpRequest, *, scope: str, form: IdempotentForm, perform: Callable[[], dict[str, Any]]
) -> IdempotentResponse:
    """Run `perform` once per (scope, user, form key). An `ApplicationError` (from the service
    or from a reused key) comes back as a 4xx answer with the error's body, never raised."""
    user_id = request.user.pk if request.user.is_authenticated else None
    try:
        return idempotent_execute(
            scope=f"ui:{scope}:user:{user_id}",
            key=str(form.cleaned_data["idempotency_key"]),
            user_id=user_id,
            payload=form.payload(),
            execute=lambda: (200, perform()),
        )
    except ApplicationError as error:
        body = {"message": error.message, "code": error.code, "extra": error.extra}
        return IdempotentResponse(status=error.http_status, body=body, replayed=False)
