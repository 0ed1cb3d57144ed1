"""Side effects done once per task message, for effects with no state of their own to check.

Celery delivers at least once (acks late): a worker killed after its task sent an e-mail but
before the broker heard the ack hands the message to another worker, under the same task id
(a retry keeps it too). Reminders, dunning notices and statements carry a `sent` marker of
their own; an applicant's e-mail has none, so its task records a receipt keyed by the task id
in the same transaction as the effect:

- the message delivered again finds the receipt and does nothing;
- an effect that raised rolled its receipt back, so the retry does it;
- two deliveries at once (a visibility timeout shorter than the task): the second insert waits
  on the first's unique key and then finds it.

The effect runs inside that transaction, against the house rule of no network call inside a
transaction, on purpose: the transaction holds nothing but its own new receipt row, and it is
what makes "sent" and "recorded as sent" one step. A worker killed after the server accepted
the mail and before the commit still sends it twice: only the receiver can close that window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from .idempotency import key_lifetime
from .models import TaskReceipt

T = TypeVar("T")


def effect_once(*, key: str, effect: Callable[[], T]) -> tuple[bool, T | None]:
    """Run `effect` unless a receipt for `key` exists; (whether it ran, what it returned)."""
    with transaction.atomic():
        _receipt, created = TaskReceipt.objects.get_or_create(key=key)
        if not created:
            return False, None
        return True, effect()


def receipts_expired_delete(*, now: datetime | None = None) -> int:
    """Receipts outlive any redelivery by far after the idempotency keys' lifetime (a day)."""
    cutoff = (now or timezone.now()) - key_lifetime()
    return TaskReceipt.objects.filter(created_at__lt=cutoff).delete()[0]
