"""Helpers shared by the servicing services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lendcore.core.sqlrows import insert_row
from servicing.models import (
    Loan,
    LoanEvent,
)
from servicing.validation import actor as _actor


def _event(loan: Loan, kind: str, *, acting_user, business_date: date, reason="", **data) -> None:
    insert_row(
        _event_row(
            loan, kind, acting_user=acting_user, business_date=business_date, reason=reason, **data
        )
    )


def _event_row(
    loan: Loan, kind: str, *, acting_user, business_date: date, reason="", **data
) -> LoanEvent:
    """The loan's event `kind`, not saved (`_event` writes it; a payment writes it together
    with its outbox event)."""
    return LoanEvent(
        loan=loan,
        kind=kind,
        reason=reason,
        data={k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in data.items()},
        business_date=business_date,
        actor=_actor(acting_user),
    )
