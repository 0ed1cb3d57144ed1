"""Fees: assessment (late by policy, NSF, manual) and waivers. Public via servicing.services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from lendcore.finance.money import ZERO, round_money

from .engine import LoanBook
from .errors import ErrorCode, LoanStateConflict, ServicingValidationError
from .ledger import cr, dr, journal_post
from .lock_objects import loan_lock
from .models import Account, EntryType, Fee, FeeWaiver, Installment, Loan, LoanEvent, Payment
from .selectors import business_date_get
from .validation import actor as _actor
from .validation import money_validate


def fee_assess_in_book(
    book: LoanBook,
    *,
    kind: str,
    amount: Decimal,
    reason: str = "",
    payment: Payment | None = None,
    installment: Installment | None = None,
    effective_date: date | None = None,
) -> Fee:
    """Charge a fee to a locked loan (Dr fees receivable, Cr fee income)."""
    loan = book.loan
    on = effective_date or book.business_date
    entry = journal_post(
        entry_type=EntryType.FEE,
        effective_date=on,
        business_date=book.business_date,
        loan=loan,
        reference=loan.loan_number,
        memo=f"{kind} fee: {reason}"[:255],
        lines=[dr(Account.FEES, amount), cr(Account.FEE_INCOME, amount)],
        acting_user=book.acting_user,
    )
    fee = Fee.objects.create(
        loan=loan,
        kind=kind,
        amount=amount,
        assessed_on=on,
        installment=installment,
        payment=payment,
        reason=reason[:255],
        entry=entry,
        created_by=_actor(book.acting_user),
    )
    book.fees.append(fee)
    LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.FEE,
        reason=reason[:500],
        data={"fee": fee.pk, "kind": kind, "amount": str(amount)},
        business_date=book.business_date,
        actor=_actor(book.acting_user),
    )
    return fee


def _open_loan(loan_id: int) -> Loan:
    loan = loan_lock(loan_id=loan_id)
    if loan.status != Loan.Status.ACTIVE:
        raise LoanStateConflict(
            f"This loan is {loan.get_status_display().lower()}; no fees can be charged.",
            code=ErrorCode.LOAN_CLOSED,
        )
    return loan


@transaction.atomic
def fee_assess(*, loan: Loan, kind: str, amount: Decimal, reason: str, acting_user) -> Fee:
    """A manual (or NSF/late) fee on an active loan, dated the business date."""
    amount = money_validate(amount)
    if kind not in Fee.Kind.values:
        raise ServicingValidationError.field(
            "kind", f"Choose one of: {', '.join(Fee.Kind.values)}."
        )
    if not (reason or "").strip():
        raise ServicingValidationError.field("reason", "Say why the fee is charged.")
    bd = business_date_get()
    loan = _open_loan(loan.pk)
    book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
    fee = fee_assess_in_book(book, kind=kind, amount=amount, reason=reason.strip())
    book.save()
    return fee


@transaction.atomic
def fee_waive(*, fee: Fee, amount: Decimal | None, reason: str, acting_user) -> FeeWaiver:
    """Waive all (amount None) or part of what is still outstanding on a fee."""
    if not (reason or "").strip():
        raise ServicingValidationError.field("reason", "Say why the fee is waived.")
    bd = business_date_get()
    loan = loan_lock(loan_id=fee.loan_id)
    fee = Fee.objects.get(pk=fee.pk)
    outstanding = fee.outstanding
    if outstanding <= 0:
        raise LoanStateConflict("Nothing is left to waive on this fee.", code="fee_settled")
    amount = outstanding if amount is None else money_validate(amount)
    if amount > outstanding:
        raise ServicingValidationError.field(
            "amount",
            f"At most {outstanding} is outstanding on this fee.",
            code=ErrorCode.WAIVER_TOO_LARGE,
        )
    entry = journal_post(
        entry_type=EntryType.FEE_WAIVER,
        effective_date=bd,
        business_date=bd,
        loan=loan,
        reference=loan.loan_number,
        memo=f"Waiver of fee {fee.pk}: {reason}"[:255],
        lines=[dr(Account.FEE_INCOME, amount), cr(Account.FEES, amount)],
        acting_user=acting_user,
    )
    fee.waived_amount += amount
    fee.save(update_fields=["waived_amount"])
    waiver = FeeWaiver.objects.create(
        fee=fee,
        amount=amount,
        reason=reason.strip()[:255],
        effective_date=bd,
        entry=entry,
        created_by=_actor(acting_user),
    )
    LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.FEE_WAIVED,
        reason=reason[:500],
        data={"fee": fee.pk, "amount": str(amount)},
        business_date=bd,
        actor=_actor(acting_user),
    )
    return waiver


def late_fee_amount(loan: Loan, installment: Installment) -> Decimal:
    if loan.late_fee_kind == "percent":
        amount = round_money(installment.total_due * loan.late_fee_amount / 100)
    else:
        amount = round_money(loan.late_fee_amount)
    if loan.late_fee_cap is not None:
        amount = min(amount, loan.late_fee_cap)
    return max(amount, ZERO)


def late_fees_assess(*, loan_ids: list[int] | None = None, business_date: date, acting_user=None):
    """Close of business: a late fee per installment past its grace days and unpaid, once."""
    from django.db.models import F

    candidates = Installment.objects.filter(
        schedule__is_current=True,
        loan__status=Loan.Status.ACTIVE,
        due_date__lt=business_date,
    ).exclude(status=Installment.Status.PAID)
    if loan_ids is not None:
        candidates = candidates.filter(loan_id__in=loan_ids)
    candidates = candidates.filter(
        loan__late_fee_amount__gt=0,
    ).exclude(fees__kind=Fee.Kind.LATE)
    fees = []
    for loan_id in sorted(set(candidates.values_list("loan_id", flat=True))):
        with transaction.atomic():
            loan = loan_lock(loan_id=loan_id)
            book = LoanBook.load(loan, business_date=business_date, acting_user=acting_user)
            for inst in candidates.filter(loan_id=loan_id).annotate(
                grace=F("loan__late_fee_grace_days")
            ):
                if (business_date - inst.due_date).days <= inst.grace:
                    continue
                amount = late_fee_amount(loan, inst)
                if amount > 0:
                    fees.append(
                        fee_assess_in_book(
                            book,
                            kind=Fee.Kind.LATE,
                            amount=amount,
                            reason=f"Installment {inst.number} due {inst.due_date} unpaid",
                            installment=inst,
                        )
                    )
            book.save()
    return fees
