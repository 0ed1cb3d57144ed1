"""Servicing's domain events for webhooks: each written to the outbox (lendcore.webhooks) in
the transaction of the change it reports. Set-based close-of-business steps insert theirs
with `INSERT ... SELECT` (see `cob/steps/delinquency.py`)."""

from __future__ import annotations

from typing import Any

from lendcore.webhooks.models import Event
from lendcore.webhooks.outbox import event_emit, event_values
from servicing.models import Loan


def loan_event(type: str, loan: Loan, **data: Any) -> None:
    """The event `type` of `loan` (one INSERT), ordered among the loan's events."""
    event_emit(type=type, loan_id=loan.pk, data=_loan_data(loan, data))


def loan_event_values(type: str, loan: Loan, **data: Any) -> tuple[type[Event], dict[str, Any]]:
    """`loan_event`'s outbox row, to write with others (`outbox.event_values`)."""
    return event_values(type=type, loan_id=loan.pk, data=_loan_data(loan, data))


def _loan_data(loan: Loan, data: dict[str, Any]) -> dict[str, Any]:
    return {"loan_id": loan.pk, "loan_number": loan.loan_number, **data}
