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
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from lendcore.errors import ApplicationError, Conflict, NotFound, ValidationFailed

from .models import IdempotencyRecord
from .sqlrows import insert_values, model_values

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def key_lifetime() -> timedelta:
    """How long a key is remembered (IDEMPOTENCY_KEY_TTL_HOURS, 24 by default): after it, the
    same key is a new request, and `idempotency_keys_purge` (hourly) deletes the record."""
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def keys_expired_delete(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Deletes the records older than the key lifetime, in batches (short locks); returns how
    many."""
    cutoff = (now or timezone.now()) - key_lifetime()
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch
            ]
        )
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]


def _forget_if_expired(scope: str, key: str) -> bool:
    """A key older than its lifetime and not yet purged counts as new: its record goes."""
    cutoff = timezone.now() - key_lifetime()
    return (
        IdempotencyRecord.objects.filter(scope=scope, key=key, created_at__lt=cutoff).delete()[0]
        > 0
    )


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
    sent = headers.get(HEADER)
    key = (sent or "").strip()
    if sent is not None and not key:
        # given but blank: refused (the schema's minLength and pattern), not read as left out
        raise ValidationFailed.for_fields(
            {HEADER: ["Give a key, or leave this header out."]},
            message=f"The {HEADER} header is blank.",
        )
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
        if _forget_if_expired(scope, key):
            return idempotent_execute(
                scope=scope, key=key, user_id=user_id, payload=payload, execute=execute
            )
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


def _record_done(
    scope: str, key: str, user_id: int | None, fingerprint: str, status: int, body: Any
) -> None:
    # its id is never read back: the row may wait to go out with the work's own writes
    # (`write_batch.coalesced_writes`: a payment's answer goes in the payment's statement)
    insert_values(
        *model_values(
            IdempotencyRecord(
                scope=scope,
                key=key,
                user_id=user_id,
                request_hash=fingerprint,
                state=IdempotencyRecord.State.DONE,
                response_status=status,
                response_body=body,
                completed_at=timezone.now(),
            )
        )
    )


class IdempotencyClaim:
    """The right to store the answer for one (scope, key), handed to the work so that the
    answer is written in the work's own transaction (see `idempotent_execute_atomic`)."""

    def __init__(self, *, scope: str, key: str, user_id: int | None, fingerprint: str) -> None:
        self.scope = scope
        self.key = key
        self.user_id = user_id
        self.fingerprint = fingerprint
        self.answer: tuple[int, Any] | None = None
        self.taken = False  # another request stored an answer for the key first

    def record(self, status: int, body: Any) -> None:
        """Store the answer; call inside the transaction that does the work, last. When the
        key already has an answer (a retry, or a duplicate that committed first), this raises
        IntegrityError and the caller's transaction, the work included, rolls back; or, when
        the work's writes wait to go out together (`write_batch.coalesced_writes`), the work
        raises it where they go out."""
        if transaction.get_autocommit():
            raise RuntimeError("IdempotencyClaim.record runs inside the work's transaction")
        try:  # no savepoint: on a conflict the whole transaction is to roll back anyway
            _record_done(self.scope, self.key, self.user_id, self.fingerprint, status, body)
        except IntegrityError:
            self.taken = True
            raise
        self.answer = (status, body)


def idempotent_execute_atomic(
    *,
    scope: str,
    key: str,
    user_id: int | None,
    payload: Any,
    execute: Callable[[IdempotencyClaim], None],
    wait_seconds: float = 15.0,
) -> IdempotentResponse:
    """Like `idempotent_execute`, for work that runs in one transaction of its own: the
    answer is stored by `execute` through `claim.record(status, body)` inside that
    transaction, so the work and its answer commit together, or neither does (no record to
    claim first and complete after: one INSERT instead of three statements and commits).

    - the same key again: the work runs, its `record` finds the key taken and the work rolls
      back; the stored answer is returned (same body) or 422 (a different body);
    - concurrent duplicates: whichever commits first owns the key; the others wait on the
      unique index (or on the rows the work locks), roll back and answer the same;
    - an `ApplicationError` is a real answer: stored in its own transaction, unless the key
      has an answer already (then that one is returned);
    - except `NotFound`: the work's target is not there (the work may find that out itself,
      where its lock reads the row, instead of a query of its own before): raised, nothing
      stored, as when the caller looks the target up before;
    - any other exception stores nothing: the key stays free for a retry.
    """
    fingerprint = request_fingerprint(payload)
    claim = IdempotencyClaim(scope=scope, key=key, user_id=user_id, fingerprint=fingerprint)
    try:
        execute(claim)
    except NotFound:
        raise
    except ApplicationError as exc:
        status = exc.http_status
        body = {"message": exc.message, "code": exc.code, "extra": exc.extra}
        try:
            with transaction.atomic():
                _record_done(scope, key, user_id, fingerprint, status, body)
        except IntegrityError:
            if _forget_if_expired(scope, key):
                return idempotent_execute_atomic(
                    scope=scope, key=key, user_id=user_id, payload=payload, execute=execute
                )
            return _replay(scope=scope, key=key, fingerprint=fingerprint, wait_seconds=wait_seconds)
        return IdempotentResponse(status=status, body=body, replayed=False)
    except IntegrityError:
        # the key taken: found by `record` itself, or, when the answer's row waited to go out
        # with the work's writes and failed there, by the answer now stored
        if not claim.taken and not (claim.answer is not None and _stored(scope, key)):
            raise
        if _forget_if_expired(scope, key):
            return idempotent_execute_atomic(
                scope=scope, key=key, user_id=user_id, payload=payload, execute=execute
            )
        return _replay(scope=scope, key=key, fingerprint=fingerprint, wait_seconds=wait_seconds)
    if claim.answer is None:
        raise RuntimeError("idempotent_execute_atomic: execute did not record its answer")
    status, body = claim.answer
    return IdempotentResponse(status=status, body=body, replayed=False)


def _stored(scope: str, key: str) -> bool:
    return IdempotencyRecord.objects.filter(scope=scope, key=key).exists()


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
