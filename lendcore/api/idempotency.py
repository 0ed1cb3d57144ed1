"""The API side of idempotency: read the header, run once, answer the stored response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.core.idempotency import (
    IdempotencyClaim,
    IdempotentResponse,
    idempotency_key_from,
    idempotent_execute,
    idempotent_execute_atomic,
)


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
