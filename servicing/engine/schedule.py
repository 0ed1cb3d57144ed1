"""Schedule versions: a loan's terms, re-amortization, new versions, leftover dues, and the
record of how a payment was applied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from lendcore.core.sqlrows import insert_row
from lendcore.finance.money import ZERO
from lendcore.finance.schedule import LoanTerms, build_schedule
from servicing.ledger import EntrySpec
from servicing.models import (
    Installment,
    Loan,
    Payment,
    PaymentApplication,
    ScheduleVersion,
)

if TYPE_CHECKING:  # annotations only: the book imports this module
    from .book import LoanBook


def loan_terms_for(
    loan: Loan,
    *,
    principal: Decimal,
    start: date,
    first_due: date,
    n_periods: int,
    annual_rate: Decimal | None = None,
    grace_periods: int = 0,
) -> LoanTerms:
    """Terms for re-scheduling the loan's remaining principal: its own amortization,
    interest method, day count and payment rounding (from the snapshot taken at boarding),
    over new dates; a re-amortization never changes what kind of loan it is."""
    snapshot = loan.terms or {}
    return LoanTerms(
        principal=principal,
        annual_rate=loan.annual_rate if annual_rate is None else annual_rate,
        n_periods=n_periods,
        frequency=loan.frequency,
        disbursement_date=start,
        first_due_date=first_due,
        amortization=loan.amortization,
        interest_method=loan.interest_method,
        day_count=loan.day_count,
        payment_rounding=Decimal(snapshot.get("payment_rounding") or "0.01"),
        grace_periods=grace_periods,
    )


def _reamortize(
    book: LoanBook,
    on: date,
    future: list[Installment],
    window: list[Installment],
    detail: list[dict],
) -> None:
    """A new schedule version: the remaining principal over the remaining due dates."""
    loan = book.loan
    principal_left = loan.principal_balance - sum(
        (i.principal_due - i.principal_paid for i in window), ZERO
    )
    old = book.installments[0].schedule
    if principal_left <= 0:
        return
    start = window[-1].due_date if window else loan.disbursed_on
    terms = loan_terms_for(
        loan,
        principal=principal_left,
        start=start,
        first_due=future[0].due_date,
        n_periods=len(future),
    )
    new_version = schedule_version_create(
        book,
        terms=terms,
        keep=[i for i in book.installments if i not in future],
        reason=f"Re-amortized after prepayment on {on.isoformat()}",
        effective_date=on,
    )
    detail.append({"schedule_from": old.pk, "schedule_to": new_version.pk})


def schedule_version_create(
    book: LoanBook,
    *,
    terms: LoanTerms,
    keep: list[Installment],
    reason: str,
    effective_date: date,
) -> ScheduleVersion:
    """Copy the kept installments (with what was paid) and add `terms`' schedule after them."""
    loan = book.loan
    book.save_installments()
    schedule = build_schedule(terms)
    old = ScheduleVersion.objects.filter(loan=loan, is_current=True).first()
    number = (
        ScheduleVersion.objects.filter(loan=loan)
        .order_by("-version")
        .values_list("version", flat=True)[:1]
    )
    next_version = (number[0] if number else 0) + 1
    if old is not None:
        old.is_current = False
        old.save(update_fields=["is_current"])
    version = ScheduleVersion.objects.create(
        loan=loan,
        version=next_version,
        is_current=True,
        reason=reason,
        effective_date=effective_date,
        regular_payment=schedule.payment,
        created_by=book.acting_user if getattr(book.acting_user, "pk", None) else None,
    )
    rows = [replace_installment(i, version, n) for n, i in enumerate(keep, start=1)]
    offset = len(rows)
    rows.extend(
        Installment(
            schedule=version,
            loan=loan,
            number=offset + inst.number,
            due_date=inst.due_date,
            principal_due=inst.principal,
            interest_due=inst.interest,
        )
        for inst in schedule.installments
    )
    Installment.objects.bulk_create(rows)
    book.reload_installments()
    loan.maturity_date = book.installments[-1].due_date
    loan.save(update_fields=["maturity_date", "updated_at"])
    return version


def replace_installment(inst: Installment, version: ScheduleVersion, number: int) -> Installment:
    return Installment(
        schedule=version,
        loan_id=inst.loan_id,
        number=number,
        due_date=inst.due_date,
        principal_due=inst.principal_due,
        interest_due=inst.interest_due,
        fee_due=inst.fee_due,
        principal_paid=inst.principal_paid,
        interest_paid=inst.interest_paid,
        fee_paid=inst.fee_paid,
        cancelled=inst.cancelled,
        principal_true_up=inst.principal_true_up,
        interest_true_up=inst.interest_true_up,
        status=inst.status,
        paid_on=inst.paid_on,
    )


def _cancel_leftover_dues(book: LoanBook, on: date, detail: list[dict]) -> None:
    """Paid off: whatever the (estimated) schedule still shows as due will never be due."""
    book.load_all_installments()
    for inst in book.installments:
        if inst.remaining > 0:
            amount = inst.remaining
            inst.cancelled += amount
            inst.paid_on = inst.paid_on or on
            book.dirty_installments.add(inst.pk)
            detail.append(
                {
                    "installment": inst.pk,
                    "interest": "0.00",
                    "principal": "0.00",
                    "cancelled": str(amount),
                }
            )


def _set_allocation(payment: Payment, amounts: dict[str, Decimal]) -> None:
    payment.alloc_fees = amounts.get("fees", ZERO)
    payment.alloc_interest = amounts.get("interest", ZERO)
    payment.alloc_principal = amounts.get("principal", ZERO)
    payment.alloc_excess = amounts.get("excess", ZERO)
    payment.alloc_credit = amounts.get("credit", ZERO)


def _record(
    payment: Payment,
    spec: EntrySpec,
    amounts: dict[str, Decimal],
    detail: list[dict],
    *,
    save_payment: bool = True,
) -> PaymentApplication:
    assert spec.created is not None
    application = PaymentApplication(
        payment=payment,
        loan_id=payment.loan_id,
        effective_date=payment.effective_date,
        entry=spec.created,
        fees=amounts.get("fees", ZERO),
        late_fees=amounts.get("late_fees", ZERO),
        interest=amounts.get("interest", ZERO),
        principal=amounts.get("principal", ZERO),
        excess=amounts.get("excess", ZERO),
        credit=amounts.get("credit", ZERO),
        detail=detail,
    )
    insert_row(application)
    if save_payment:
        _set_allocation(payment, amounts)
        payment.save(
            update_fields=[
                "alloc_fees",
                "alloc_interest",
                "alloc_principal",
                "alloc_excess",
                "alloc_credit",
            ]
        )
    return application
