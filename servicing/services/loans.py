"""Loan-level writes: interest accrual, flags and credit refunds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction

from lendcore.core.external_ids import external_id_set
from servicing.accrual import accrue_loans
from servicing.errors import ErrorCode, LoanStateConflict, ServicingValidationError
from servicing.ledger import cr, dr, journal_post
from servicing.lock_objects import loan_lock, loans_lock
from servicing.models import (
    Account,
    EntryType,
    Loan,
    LoanEvent,
)
from servicing.selectors import (
    business_date_get,
)
from servicing.validation import money_validate

from ._shared import _event

# --------------------------------------------------------------------------- interest


def accrue_interest(
    loan_ids: Iterable[int], business_date: date, *, acting_user=None, batch_size: int = 2000
) -> int:
    """Accrue every listed loan through `business_date`, set-based: per batch of loans one
    locking SELECT and a constant number of bulk writes. Idempotent per loan and date.
    Returns the accrual rows written."""
    ids = sorted(set(loan_ids))
    written = 0
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            loans = loans_lock(loan_ids=ids[start : start + batch_size])
            written += accrue_loans(
                loans, through=business_date, business_date=business_date, acting_user=acting_user
            )
    return written


def loan_external_id_set(*, loan: Loan, external_id: str | None, acting_user) -> Loan:
    """Names the loan with the caller's own id (unique per caller; None clears it)."""
    with transaction.atomic():
        loan = loan_lock(loan_id=loan.pk)
        external_id_set(loan, owner=acting_user, external_id=external_id)
    return loan


def loan_flags_set(
    *,
    loan: Loan,
    acting_user,
    delinquent: bool | None = None,
    in_hardship: bool | None = None,
    non_accrual: bool | None = None,
    reason: str = "",
) -> Loan:
    """Set the loan's flags (collections and close of business use this)."""
    with transaction.atomic():
        loan = loan_lock(loan_id=loan.pk)
        changed = {}
        for name, value in (
            ("delinquent", delinquent),
            ("in_hardship", in_hardship),
            ("non_accrual", non_accrual),
        ):
            if value is not None and getattr(loan, name) != value:
                setattr(loan, name, value)
                changed[name] = value
        if changed:
            loan.save(update_fields=[*changed, "updated_at"])
            _event(
                loan,
                LoanEvent.Kind.FLAG,
                acting_user=acting_user,
                business_date=business_date_get(),
                reason=reason,
                **changed,
            )
    return loan


@transaction.atomic
def credit_refund(*, loan: Loan, amount: Decimal | None = None, acting_user) -> Decimal:
    """Pay the borrower's credit balance (or part of it) back (Dr credit, Cr cash)."""
    bd = business_date_get()
    loan = loan_lock(loan_id=loan.pk)
    if loan.credit_balance <= 0:
        raise LoanStateConflict(
            "There is no credit balance to refund.", code=ErrorCode.NOTHING_TO_REFUND
        )
    amount = loan.credit_balance if amount is None else money_validate(amount)
    if amount > loan.credit_balance:
        raise ServicingValidationError.field(
            "amount",
            f"At most {loan.credit_balance} can be refunded.",
            code=ErrorCode.INVALID_AMOUNT,
        )
    journal_post(
        entry_type=EntryType.REFUND,
        effective_date=bd,
        business_date=bd,
        loan=loan,
        reference=loan.loan_number,
        memo="Credit balance refund",
        lines=[dr(Account.CREDIT, amount), cr(Account.CASH, amount)],
        acting_user=acting_user,
    )
    _event(loan, LoanEvent.Kind.REFUND, acting_user=acting_user, business_date=bd, amount=amount)
    return amount
