"""Idempotent execution of a mutation keyed by the client's `Idempotency-Key`.

Used by every API mutation that must not happen twice (payments, disbursement). The service
being protected should also be idempotent on its own domain key where it has one: this layer
makes a retried HTTP request return the first answer byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from lendcore.errors import ApplicationError, Conflict, ValidationFailed

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(ApplicationError):
    http_status = 422
    default_code = "idempotency_key_reused"


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: Any
    replayed: bool


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_from(headers: Any, *, required: bool = True) -> str | None:
    key = (headers.get(HEADER) or "").strip()
    if not key:
        if required:
            raise ValidationFailed.for_fields(
                {HEADER: ["This header is required for this operation."]},
                message=f"The {HEADER} header is required.",
            )
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.for_fields(
            {HEADER: [f"At most {MAX_KEY_LENGTH} characters."]}, message=f"{HEADER} is too long."
        )
    return key


def idempotent_execute(
    *,
    scope: str,
    key: str,
    user_id: int | None,
    payload: Any,
    execute: Callable[[], tuple[int, Any]],
    wait_seconds: float = 15.0,
) -> IdempotentResponse:
    """Run `execute` once per (scope, key); later calls get the stored answer.

    `execute` returns (status, JSON body). An `ApplicationError` it raises is a real answer
    and is stored too (a retry gets the same 4xx); any other exception forgets the key so
    that the client may retry.
    """
    fingerprint = request_fingerprint(payload)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                scope=scope, key=key, user_id=user_id, request_hash=fingerprint
            )
    except IntegrityError:
        return _replay(scope=scope, key=key, fingerprint=fingerprint, wait_seconds=wait_seconds)

    try:
        status, body = execute()
    except ApplicationError as exc:
        status, body = (
            exc.http_status,
            {"message": exc.message, "code": exc.code, "extra": exc.extra},
        )
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE,
        response_status=status,
        response_body=body,
        completed_at=timezone.now(),
    )
    return IdempotentResponse(status=status, body=body, replayed=False)


def _replay(*, scope: str, key: str, fingerprint: str, wait_seconds: float) -> IdempotentResponse:
    deadline = time.monotonic() + wait_seconds
    while True:
        record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if record is None:  # the first attempt failed and forgot the key: refuse, client retries
            raise Conflict(
                "The first request with this Idempotency-Key failed; retry it.",
                code="idempotency_retry",
            )
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                f"This {HEADER} was used with a different request body.",
                extra={"fields": {HEADER: ["Already used with a different body."]}},
            )
        if record.state == IdempotencyRecord.State.DONE:
            return IdempotentResponse(
                status=record.response_status or 200, body=record.response_body, replayed=True
            )
        if time.monotonic() >= deadline:
            raise Conflict(
                f"A request with this {HEADER} is still being processed.",
                code="idempotency_in_progress",
            )
        time.sleep(0.05)
