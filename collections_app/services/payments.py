"""A payment the borrower makes on the phone with a collector: posted through servicing's
payment service (the one place money is received), and written on the case's history in
the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from collections_app.errors import CollectionsValidationError
from collections_app.models import CaseEvent, CollectionCase
from servicing import services

from .contacts import _actor, work_permission_require

# what a borrower can pay with over the phone (card or bank account details)
PHONE_METHODS = ("debit_card", "ach")


def phone_payment_take(
    *,
    case: CollectionCase,
    amount: Decimal,
    method: str,
    reference: str = "",
    acting_user,
    on: date,
    on_posted: Callable[[Any], None] | None = None,
):
    """Post the payment (servicing.services.payment_post: its validation, its 400/403/409)
    and record it on the case. `on_posted(payment)` runs inside the payment's transaction
    after the case event (the UI and the API store their idempotent answer there)."""
    work_permission_require(acting_user)
    if method not in PHONE_METHODS:
        raise CollectionsValidationError.field(
            "method", f"Choose one of: {', '.join(PHONE_METHODS)}."
        )

    def _posted(payment) -> None:
        CaseEvent.objects.create(
            case_id=case.pk,
            kind=CaseEvent.Kind.PAYMENT,
            actor=_actor(acting_user),
            business_date=on,
            at=timezone.now(),
            data={
                "payment": payment.pk,
                "amount": str(payment.amount),
                "method": method,
                "reference": reference,
            },
        )
        if on_posted is not None:
            on_posted(payment)

    return services.payment_post(
        loan=case.loan,
        amount=amount,
        method=method,
        reference=reference,
        acting_user=acting_user,
        on_posted=_posted,
    )
