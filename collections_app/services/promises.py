"""Promises to pay: recorded by a collector (one or several instalments), settled kept or
broken by close of business (collections_app.cob), each moving the case's priority
(collections_app.priority)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from collections_app import config
from collections_app.errors import CaseClosed, CollectionsValidationError
from collections_app.lock_objects import case_lock
from collections_app.models import CaseEvent, CollectionCase, Contact, PromiseToPay
from collections_app.priority import case_priority, promise_factor
from collections_app.webhook_events import case_event_publish
from lendcore.finance.money import MONEY_MAX, round_money

from .contacts import _actor, work_permission_require


def _field(index: int, count: int, name: str) -> str:
    """The field a message names: `instalments[0].amount` (the API's body, the UI's rows)."""
    return f"instalments[{index}].{name}"


def promise_instalments_validate(
    instalments: Sequence[tuple[Decimal, date]], *, on: date
) -> list[tuple[Decimal, date]]:
    """Each (amount, due date): amount above zero in cents, date not before the business
    date, dates in order. 400 naming the field otherwise."""
    count = len(instalments)
    if count == 0:
        raise CollectionsValidationError.field("instalments", "Give at least one instalment.")
    if count > config.MAX_PROMISE_INSTALMENTS:
        raise CollectionsValidationError.field(
            "instalments", f"At most {config.MAX_PROMISE_INSTALMENTS} instalments."
        )
    cleaned: list[tuple[Decimal, date]] = []
    previous: date | None = None
    for index, (amount, due) in enumerate(instalments):
        try:
            value = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            raise CollectionsValidationError.field(
                _field(index, count, "amount"), "Enter an amount."
            ) from None
        if not value.is_finite() or value <= 0:
            raise CollectionsValidationError.field(
                _field(index, count, "amount"), "A promise is of an amount above zero."
            )
        if value > MONEY_MAX:
            raise CollectionsValidationError.field(
                _field(index, count, "amount"), f"At most {MONEY_MAX}."
            )
        if value != round_money(value):
            raise CollectionsValidationError.field(
                _field(index, count, "amount"), "At most 2 decimal places."
            )
        if due is None:
            raise CollectionsValidationError.field(
                _field(index, count, "due_date"), "Enter the date."
            )
        if due < on:
            raise CollectionsValidationError.field(
                _field(index, count, "due_date"),
                f"A promise cannot be dated in the past (business date {on.isoformat()}).",
            )
        if previous is not None and due <= previous:
            raise CollectionsValidationError.field(
                _field(index, count, "due_date"), "Each instalment falls after the previous one."
            )
        previous = due
        cleaned.append((value, due))
    return cleaned


def case_priority_refresh(case: CollectionCase) -> None:
    """Recompute the (locked) case's priority with its promises (as close of business does)."""
    promises = PromiseToPay.objects.filter(case=case)
    pending = promises.filter(status=PromiseToPay.Status.PENDING).count()
    broken = promises.filter(status=PromiseToPay.Status.BROKEN).count()
    case.priority = case_priority(
        amount_past_due=case.amount_past_due,
        dpd=case.dpd,
        promise_factor=promise_factor(pending=pending, broken=broken),
    )
    case.save(update_fields=["priority"])


def promise_record(
    *,
    case: CollectionCase,
    instalments: Sequence[tuple[Decimal, date]],
    contact: Contact | None = None,
    acting_user,
    on: date,
) -> list[PromiseToPay]:
    """Record a promise to pay of one or several instalments (amount, due date). While one
    is pending the case's priority is lowered."""
    work_permission_require(acting_user)
    cleaned = promise_instalments_validate(instalments, on=on)
    if contact is not None and contact.case_id != case.pk:
        raise CollectionsValidationError.field("contact", "That contact is of another case.")
    key = str(uuid.uuid4())
    with transaction.atomic():
        locked = case_lock(case_id=case.pk)
        if not locked.is_open():
            raise CaseClosed(
                f"Case {locked.pk} is {locked.status}: promises are recorded only on an open case."
            )
        PromiseToPay.objects.bulk_create(
            [
                PromiseToPay(
                    case=locked,
                    loan_id=locked.loan_id,
                    promise_key=key,
                    sequence=index + 1,
                    amount=amount,
                    due_date=due,
                    promised_on=on,
                    contact=contact,
                    actor=_actor(acting_user),
                )
                for index, (amount, due) in enumerate(cleaned)
            ]
        )
        event = CaseEvent.objects.create(
            case=locked,
            kind=CaseEvent.Kind.PROMISE,
            actor=_actor(acting_user),
            business_date=on,
            at=timezone.now(),
            data={
                "promise": key,
                "instalments": [
                    {"amount": str(amount), "due_date": due.isoformat()} for amount, due in cleaned
                ],
                "total": str(sum((amount for amount, _ in cleaned), Decimal("0.00"))),
            },
        )
        case_event_publish(event, loan_id=locked.loan_id)
        case_priority_refresh(locked)
    return list(PromiseToPay.objects.filter(promise_key=key).order_by("sequence"))
