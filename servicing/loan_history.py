"""A loan's history for people: payments, fees, waivers and recoveries in one list, newest
first (the portal, the staff loan page and the API's transactions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .models import Loan
from .selectors import loan_fees, loan_payments


@dataclass(frozen=True)
class LoanTransaction:
    """One row of the loan's history for people: payments, fees, waivers, charge-off."""

    kind: str
    id: int
    date: date
    amount: Decimal
    status: str
    description: str
    allocation: dict[str, Decimal] | None


def loan_transactions(*, loan: Loan) -> list[LoanTransaction]:
    """Payments, fees and waivers newest first (interest accrual lives in the journal)."""
    rows: list[LoanTransaction] = [
        LoanTransaction(
            kind="recovery" if p.is_recovery else "payment",
            id=p.pk,
            date=p.effective_date,
            amount=p.amount,
            status=p.status,
            description=f"{p.get_method_display()} {p.reference}".strip(),
            allocation=p.allocation,
        )
        for p in loan_payments(loan=loan)
    ]
    for fee in loan_fees(loan=loan):
        rows.append(
            LoanTransaction(
                kind=f"{fee.kind}_fee",
                id=fee.pk,
                date=fee.assessed_on,
                amount=fee.amount,
                status=fee.status,
                description=fee.reason or fee.get_kind_display(),
                allocation=None,
            )
        )
        rows.extend(
            LoanTransaction(
                kind="fee_waiver",
                id=waiver.pk,
                date=waiver.effective_date,
                amount=waiver.amount,
                status="posted",
                description=waiver.reason,
                allocation=None,
            )
            for waiver in fee.waivers.all()
        )
    rows.sort(key=lambda r: (r.date, r.kind, r.id), reverse=True)
    return rows
