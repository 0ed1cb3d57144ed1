"""The API side of idempotency: read the header, run once, answer the stored response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.core.idempotency import (
    HEADER,
    MAX_KEY_LENGTH,
    IdempotencyClaim,
    IdempotentResponse,
    idempotency_key_from,
    idempotent_execute,
    idempotent_execute_atomic,
)


def idempotency_key_parameter(*, required: bool) -> OpenApiParameter:
    """The `Idempotency-Key` header as the schema shows it: what `idempotency_key_from` takes."""
    return OpenApiParameter(
        HEADER,
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
        OpenApiParameter.HEADER,
        required=required,
        description=(
            "One key per intended change (a UUID, say): a retry with the same key and body "
            "answers the first response again, with `Idempotent-Replayed: true`; the same key "
            "with another body is a 422 (a 409 while the first is still in flight)."
            + ("" if required else " Optional here: without it the call is not deduplicated.")
        ),
    )


IDEMPOTENCY_KEY_REQUIRED = idempotency_key_parameter(required=True)
IDEMPOTENCY_KEY_OPTIONAL = idempotency_key_parameter(required=False)


def idempotent_response(
    request: Request,
    *,
    scope: str,
    payload: Any,
    execute: Callable[[], tuple[int, Any]],
    required: bool = True,
) -> Response:
    """Answer `execute()` once per Idempotency-Key; a replay carries `Idempotent-Replayed`."""
    key = idempotency_key_from(request.headers, required=required)
    if key is None:
        status, body = execute()
        return Response(body, status=status)
    user_id = request.user.pk if request.user.is_authenticated else None
    result = idempotent_execute(
        scope=f"{scope}:user:{user_id}", key=key, user_id=user_id, payload=payload, execute=execute
    )
    return _response(result)


def idempotent_response_atomic(
    request: Request, *, scope: str, payload: Any, execute: Callable[[IdempotencyClaim], None]
) -> Response:
    """`idempotent_response` for work that stores its answer in its own transaction through
    `claim.record(status, body)` (see `idempotent_execute_atomic`). The header is required."""
    key = idempotency_key_from(request.headers, required=True)
    assert key is not None
    user_id = request.user.pk if request.user.is_authenticated else None
    result = idempotent_execute_atomic(
        scope=f"{scope}:user:{user_id}", key=key, user_id=user_id, payload=payload, execute=execute
    )
    return _response(result)


def _response(result: IdempotentResponse) -> Response:
    response = Response(result.body, status=result.status)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
