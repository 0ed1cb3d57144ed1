"""Writes: subscriptions (create, change, rotate the secret, delete), redelivery, and the
delivery loop (dispatch the outbox, claim what is due, post, record each attempt)."""

from __future__ import annotations

import base64
import binascii
import json
import random
import secrets as secrets_module
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_can
from lendcore.core.audit import audit_record
from lendcore.core.crypto import decrypt, encrypt
from lendcore.errors import PermissionDenied

from . import http
from .errors import ErrorCode, WebhookConflict, WebhookInvalid
from .events import EVENT_TYPES
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .safety import UnsafeUrl, url_check

SECRET_PREFIX = "whsec_"
SECRET_MESSAGE = "A secret is `whsec_` followed by base64 of 24 to 64 random bytes."
# What `secret_check` takes, for the API schema: base64 (padded) of 24 to 64 bytes, i.e. 8 to 21
# whole groups of four characters and a padded tail, but no 2-byte tail after 21 (65 bytes).
_B64 = "[A-Za-z0-9+/]"
SECRET_PATTERN = (
    rf"^whsec_(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    rf"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
)
PENDING = WebhookDelivery.Status.PENDING

# --------------------------------------------------------------------------- subscriptions


def _require(acting_user: Any) -> None:
    if not user_can(acting_user, Action.MANAGE_WEBHOOKS):
        raise PermissionDenied(
            f"This action needs a staff role with: {Action.MANAGE_WEBHOOKS}",
            code="permission_denied",
        )


def secret_generate() -> str:
    """A new `whsec_` secret: 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(32)).decode()


def secret_check(secret: str) -> str:
    """A client-chosen secret must be `whsec_` and base64 of 24 to 64 bytes."""
    error = WebhookInvalid.for_fields(
        {"secret": [SECRET_MESSAGE]},
        code=ErrorCode.INVALID_SECRET,
    )
    if not secret.startswith(SECRET_PREFIX):
        raise error
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise error from None
    if not 24 <= len(raw) <= 64:
        raise error
    return secret


def _url_checked(url: str) -> str:
    try:
        return url_check(url)
    except UnsafeUrl as exc:
        raise WebhookInvalid.for_fields({"url": [str(exc)]}, code=ErrorCode.INVALID_URL) from None


def _types_checked(event_types: list[str]) -> list[str]:
    unknown = [name for name in event_types if name not in EVENT_TYPES]
    if unknown or not event_types:
        message = f"Unknown event types: {', '.join(unknown)}." if unknown else "Name one or more."
        raise WebhookInvalid.for_fields(
            {"event_types": [message]}, code=ErrorCode.UNKNOWN_EVENT_TYPE
        )
    return list(dict.fromkeys(event_types))


@transaction.atomic
def subscription_create(
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    secret: str | None = None,
    acting_user: Any,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (shown once: only its owner keeps it)."""
    _require(acting_user)
    secret = secret_check(secret) if secret else secret_generate()
    subscription = WebhookSubscription.objects.create(
        url=_url_checked(url),
        event_types=_types_checked(event_types),
        description=description,
        secret_encrypted=encrypt(secret),
        owner=acting_user,
    )
    audit_record(action="webhook_subscription_created", actor=acting_user, obj=subscription)
    return subscription, secret


@transaction.atomic
def subscription_update(
    *,
    subscription: WebhookSubscription,
    acting_user: Any,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given. Enabling a disabled subscription clears its failure run."""
    _require(acting_user)
    fields: list[str] = ["updated_at"]
    if url is not None:
        subscription.url = _url_checked(url)
        fields.append("url")
    if event_types is not None:
        subscription.event_types = _types_checked(event_types)
        fields.append("event_types")
    if description is not None:
        subscription.description = description
        fields.append("description")
    if is_active is not None and is_active != subscription.is_active:
        subscription.is_active = is_active
        subscription.failure_run = 0
        subscription.disabled_reason = "" if is_active else "disabled by staff"
        fields += ["is_active", "failure_run", "disabled_reason"]
    subscription.save(update_fields=fields)
    audit_record(action="webhook_subscription_changed", actor=acting_user, obj=subscription)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, acting_user: Any) -> None:
    """Delete it with its deliveries (disable it instead to keep the history)."""
    _require(acting_user)
    audit_record(action="webhook_subscription_deleted", actor=acting_user, obj=subscription)
    subscription.delete()


@transaction.atomic
def subscription_secret_rotate(
    *,
    subscription: WebhookSubscription,
    acting_user: Any,
    secret: str | None = None,
    overlap: timedelta | None = None,
) -> str:
    """A new secret signs from now on; the current one keeps signing too (both signatures in
    `webhook-signature`) for `overlap` (WEBHOOK_SECRET_OVERLAP), so receivers can switch."""
    _require(acting_user)
    new = secret_check(secret) if secret else secret_generate()
    overlap = settings.WEBHOOK_SECRET_OVERLAP if overlap is None else overlap
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_secret_expires_at = timezone.now() + overlap
    subscription.secret_encrypted = encrypt(new)
    subscription.save(
        update_fields=[
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "secret_encrypted",
            "updated_at",
        ]
    )
    audit_record(action="webhook_secret_rotated", actor=acting_user, obj=subscription)
    return new


def subscription_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    found = [decrypt(subscription.secret_encrypted)]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret_encrypted and expires is not None and now < expires:
        found.append(decrypt(subscription.previous_secret_encrypted))
    return found


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, acting_user: Any) -> WebhookDelivery:
    """Queue a delivery again (dead-lettered, or delivered and wanted again): due now with a
    new run of attempts, the same `webhook-id`; its earlier attempts stay on record."""
    _require(acting_user)
    locked = WebhookDelivery.objects.select_for_update().select_related("subscription")
    delivery = locked.get(pk=delivery.pk)
    if not delivery.subscription.is_active:
        raise WebhookConflict(
            "The subscription is disabled: enable it first.",
            code=ErrorCode.SUBSCRIPTION_DISABLED,
        )
    delivery.status = PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(action="webhook_redelivered", actor=acting_user, obj=delivery)
    return delivery


# --------------------------------------------------------------------------- delivery


def retry_delay(
    attempts: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds before the next attempt after `attempts` failures: exponential
    (base·2^(n-1), at most `cap`) with jitter (half of it random), so receivers coming back
    are not hit by every sender at once."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + rand() * delay / 2


def body_of(event: Event) -> bytes:
    """The request body (the Standard Webhooks payload shape): the same bytes on every
    attempt."""
    document = {
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True
    ).encode()


def events_dispatch(*, limit: int) -> int:
    """Fan the oldest undispatched events out to the active subscriptions of their type (one
    delivery each); the rows are claimed with SKIP LOCKED, so dispatchers run side by side."""
    with transaction.atomic():
        events = list(
            Event.objects.filter(dispatched_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .only("id", "type", "loan_id")[:limit]
        )
        if not events:
            return 0
        subscriptions = list(
            WebhookSubscription.objects.filter(is_active=True).only("id", "event_types")
        )
        now = timezone.now()
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    event_id=event.pk,
                    subscription_id=subscription.pk,
                    loan_id=event.loan_id,
                    next_attempt_at=now,
                )
                for event in events
                for subscription in subscriptions
                if event.type in subscription.event_types
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        Event.objects.filter(pk__in=[event.pk for event in events]).update(dispatched_at=now)
    return len(events)


def deliveries_claim(*, limit: int, now: datetime | None = None) -> list[WebhookDelivery]:
    """The due deliveries that wait for nothing: none of an earlier event of the same loan
    and subscription still pending (order per loan), nor an earlier event of the loan still
    undispatched. Claimed with SKIP LOCKED and leased (pushed past the timeout) so another
    worker does not post them too; a worker that dies leaves them due again after the lease."""
    now = now or timezone.now()
    earlier_pending = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        loan_id=OuterRef("loan_id"),
        event_id__lt=OuterRef("event_id"),
        status=PENDING,
    )
    earlier_undispatched = Event.objects.filter(
        loan_id=OuterRef("loan_id"), pk__lt=OuterRef("event_id"), dispatched_at__isnull=True
    )
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(
                status=PENDING, next_attempt_at__lte=now, subscription__is_active=True
            )
            .filter(~Exists(earlier_pending), ~Exists(earlier_undispatched))
            .order_by("event_id", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + lease)
    return list(
        WebhookDelivery.objects.filter(pk__in=ids)
        .select_related("event", "subscription")
        .order_by("event_id", "id")
    )


@dataclass(frozen=True)
class _Request:
    delivery: WebhookDelivery
    url: str
    headers: dict[str, str]
    body: bytes


def _request(delivery: WebhookDelivery, now: datetime, secrets: dict[int, list[str]]) -> _Request:
    """The signed request; `secrets` caches each subscription's secrets for the batch (one
    decryption per subscription, not per delivery)."""
    event = delivery.event
    if delivery.subscription_id not in secrets:
        secrets[delivery.subscription_id] = subscription_secrets(delivery.subscription, now)
    body = body_of(event)
    headers = {
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": http.signature_header(
            secrets=secrets[delivery.subscription_id],
            msg_id=event.webhook_id,
            timestamp=now,
            body=body,
        ),
    }
    return _Request(delivery, delivery.subscription.url, headers, body)


def _post(request: _Request) -> http.Answer:
    return http.post(
        url=request.url,
        headers=request.headers,
        body=request.body,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        keep=settings.WEBHOOK_RESPONSE_BODY_CHARS,
    )


@transaction.atomic
def attempt_record(
    *, delivery: WebhookDelivery, answer: http.Answer, started_at: datetime
) -> WebhookDelivery:
    """Record one attempt; succeed, schedule the retry, or dead-letter after
    WEBHOOK_MAX_ATTEMPTS failures. A run of WEBHOOK_DISABLE_AFTER_FAILURES failures of a
    subscription disables it and tells its owner."""
    WebhookAttempt.objects.create(
        delivery=delivery,
        started_at=started_at,
        duration_ms=answer.duration_ms,
        status_code=answer.status_code,
        response_body=answer.body,
        error=answer.error,
        succeeded=answer.ok,
    )
    now = timezone.now()
    delivery.last_attempt_at = started_at
    subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    if answer.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        subscriptions.filter(failure_run__gt=0).update(failure_run=0)
    else:
        delivery.attempts += 1
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.DEAD
        else:
            delay = retry_delay(
                delivery.attempts,
                base=settings.WEBHOOK_RETRY_BASE_SECONDS,
                cap=settings.WEBHOOK_RETRY_MAX_SECONDS,
            )
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        subscriptions.update(failure_run=F("failure_run") + 1)
        _disable_if_failing(delivery.subscription_id)
    delivery.save(
        update_fields=["status", "attempts", "next_attempt_at", "last_attempt_at", "delivered_at"]
    )
    return delivery


@transaction.atomic
def successes_record(
    successes: list[tuple[WebhookDelivery, http.Answer]], *, started_at: datetime
) -> None:
    """A batch's successful attempts in three statements (the common case stays cheap):
    their attempt rows, the deliveries succeeded, the subscriptions' failure runs ended."""
    if not successes:
        return
    WebhookAttempt.objects.bulk_create(
        [
            WebhookAttempt(
                delivery=delivery,
                started_at=started_at,
                duration_ms=answer.duration_ms,
                status_code=answer.status_code,
                response_body=answer.body,
                succeeded=True,
            )
            for delivery, answer in successes
        ]
    )
    now = timezone.now()
    WebhookDelivery.objects.filter(pk__in=[d.pk for d, _ in successes]).update(
        status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, last_attempt_at=started_at
    )
    WebhookSubscription.objects.filter(
        pk__in={d.subscription_id for d, _ in successes}, failure_run__gt=0
    ).update(failure_run=0)


def _disable_if_failing(subscription_id: int) -> None:
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    if not limit:
        return
    reason = f"disabled after {limit} failed attempts in a row"
    disabled = WebhookSubscription.objects.filter(
        pk=subscription_id, is_active=True, failure_run__gte=limit
    ).update(is_active=False, disabled_reason=reason, updated_at=timezone.now())
    if not disabled:
        return
    subscription = WebhookSubscription.objects.select_related("owner").get(pk=subscription_id)
    audit_record(action="webhook_subscription_disabled", obj=subscription, actor_name="system")
    email = getattr(subscription.owner, "email", "")
    if email:
        transaction.on_commit(
            lambda: send_mail(
                "LendCore: webhook subscription disabled",
                f"Your webhook subscription to {subscription.url} was {reason}. Fix the "
                "endpoint, enable the subscription again, and redeliver what it missed.",
                None,
                [email],
                fail_silently=True,
            )
        )


def webhooks_deliver(*, batch: int | None = None, seconds: float | None = None) -> dict[str, int]:
    """Dispatch the outbox and post what is due, in batches, for at most `seconds`
    (WEBHOOK_TASK_SECONDS): several posts at a time (WEBHOOK_CONCURRENCY), one per loan and
    subscription. At least once: a crash between the post and its record posts again, with
    the same `webhook-id`."""
    batch = batch or settings.WEBHOOK_BATCH_SIZE
    budget = settings.WEBHOOK_TASK_SECONDS if seconds is None else seconds
    started = time.monotonic()
    counts = {"dispatched": 0, "attempted": 0, "succeeded": 0, "failed": 0}
    with ThreadPoolExecutor(max_workers=settings.WEBHOOK_CONCURRENCY) as pool:
        while True:
            dispatched = events_dispatch(limit=batch)
            counts["dispatched"] += dispatched
            claimed = deliveries_claim(limit=batch)
            if not claimed and not dispatched:
                break
            now = timezone.now()
            secrets: dict[int, list[str]] = {}
            requests = [_request(delivery, now, secrets) for delivery in claimed]
            answers = list(zip(requests, pool.map(_post, requests), strict=True))
            successes = [(r.delivery, a) for r, a in answers if a.ok]
            successes_record(successes, started_at=now)
            for request, answer in answers:
                if not answer.ok:
                    attempt_record(delivery=request.delivery, answer=answer, started_at=now)
            counts["attempted"] += len(answers)
            counts["succeeded"] += len(successes)
            counts["failed"] += len(answers) - len(successes)
            if time.monotonic() - started > budget:
                break
    return counts
