"""Servicing's domain events for webhooks: each written to the outbox (lendcore.webhooks) in
the transaction of the change it reports. Set-based close-of-business steps insert theirs
with `INSERT ... SELECT` (see `cob/steps/delinquency.py`)."""

from __future__ import annotations

from typing import Any

from lendcore.webhooks.outbox import event_emit
from servicing.models import Loan


def loan_event(type: str, loan: Loan, **data: Any) -> None:
    """The event `type` of `loan` (one INSERT), ordered among the loan's events."""
    event_emit(
        type=type,
        loan_id=loan.pk,
        data={"loan_id": loan.pk, "loan_number": loan.loan_number, **data},
    )
