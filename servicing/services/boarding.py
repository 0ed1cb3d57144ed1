"""Boarding: the loan, its first schedule and the disbursement entry."""

from __future__ import annotations

import dataclasses
from datetime import date

from django.db import IntegrityError, transaction

from lendcore.finance.schedule import LoanTerms, build_schedule
from servicing.errors import ErrorCode, LoanStateConflict, ServicingValidationError
from servicing.ledger import cr, dr, journal_post
from servicing.models import (
    Account,
    EntryType,
    Installment,
    Loan,
    LoanEvent,
    ScheduleVersion,
)
from servicing.selectors import (
    business_date_get,
)
from servicing.types import LoanBoarding
from servicing.validation import actor as _actor

from ._shared import _event

# --------------------------------------------------------------------------- boarding


def _next_loan_number(loan: Loan) -> str:
    return f"LN-{loan.pk:06d}"


@transaction.atomic
def loan_board(
    *,
    boarding: LoanBoarding,
    borrower,
    application_ref: str,
    disbursed_on: date,
    method: str,
    reference: str,
    acting_user,
) -> Loan:
    """Create the loan, its schedule (v1) and the disbursement entry, in the caller's
    transaction. Idempotent on `application_ref`: boarding it again returns the same loan."""
    existing = Loan.objects.filter(application_ref=application_ref).first()
    if existing is not None:
        return _boarded_already(existing, boarding=boarding, borrower=borrower)
    terms = boarding.terms
    if terms.disbursement_date != disbursed_on:
        try:
            terms = dataclasses.replace(terms, disbursement_date=disbursed_on)
        except ValueError as error:
            raise ServicingValidationError.field("disbursed_on", str(error)) from None
    if sorted(boarding.allocation_order) != ["fees", "interest", "principal"]:
        raise ServicingValidationError.field(
            "allocation_order", "Order each of fees, interest and principal exactly once."
        )
    schedule = build_schedule(terms)
    if schedule.total_principal != terms.principal:
        raise ServicingValidationError.field("terms", "The schedule does not amortize.")
    if boarding.origination_fee >= terms.principal:
        raise ServicingValidationError.field(
            "origination_fee", "The fee must be less than the principal."
        )
    bd = business_date_get()
    late = boarding.late_fee
    rate_pct = boarding.annual_rate_pct
    if rate_pct is None:
        rate_pct = terms.annual_rate * 100
    try:
        with transaction.atomic():
            loan = Loan.objects.create(
                loan_number=f"NEW-{application_ref}"[:20],
                application_ref=application_ref,
                borrower=borrower,
                product_code=boarding.product_code,
                product_name=boarding.product_name,
                product_version=boarding.product_version,
                currency=boarding.currency,
                principal_amount=terms.principal,
                annual_rate=terms.annual_rate,
                annual_rate_pct=rate_pct,
                apr=boarding.apr,
                n_periods=terms.n_periods,
                frequency=terms.frequency,
                day_count=terms.day_count,
                amortization=terms.amortization,
                interest_method=terms.interest_method,
                first_due_date=schedule.installments[0].due_date,
                maturity_date=schedule.installments[-1].due_date,
                terms=_terms_snapshot(terms),
                interest_model=boarding.interest_model,
                origination_fee=boarding.origination_fee,
                origination_fee_kind=boarding.origination_fee_kind,
                late_fee_kind=late.kind,
                late_fee_amount=late.amount,
                late_fee_grace_days=late.grace_days,
                late_fee_cap=late.cap,
                nsf_fee=boarding.nsf_fee,
                allocation_order=list(boarding.allocation_order),
                prepayment_option=boarding.prepayment_option,
                disbursed_on=disbursed_on,
                disbursement_method=method,
                disbursement_reference=reference,
                last_accrual_date=disbursed_on,
                oldest_unpaid_due_date=schedule.installments[0].due_date,
                created_by=_actor(acting_user),
            )
    except IntegrityError:
        existing = Loan.objects.filter(application_ref=application_ref).first()
        if existing is None:
            raise
        return _boarded_already(existing, boarding=boarding, borrower=borrower)
    loan.loan_number = _next_loan_number(loan)
    loan.save(update_fields=["loan_number"])
    version = ScheduleVersion.objects.create(
        loan=loan,
        version=1,
        reason="Boarded",
        effective_date=disbursed_on,
        regular_payment=schedule.payment,
        created_by=_actor(acting_user),
    )
    Installment.objects.bulk_create(
        [
            Installment(
                schedule=version,
                loan=loan,
                number=inst.number,
                due_date=inst.due_date,
                principal_due=inst.principal,
                interest_due=inst.interest,
            )
            for inst in schedule.installments
        ]
    )
    fee = boarding.origination_fee
    journal_post(
        entry_type=EntryType.DISBURSEMENT,
        effective_date=disbursed_on,
        business_date=bd,
        loan=loan,
        reference=reference or application_ref,
        memo=f"Disbursement of {loan.loan_number} by {method}",
        lines=[
            dr(Account.PRINCIPAL, terms.principal),
            cr(Account.CASH, terms.principal - fee),
            *([cr(Account.FEE_INCOME, fee)] if fee > 0 else []),
        ],
        acting_user=acting_user,
    )
    _event(
        loan,
        LoanEvent.Kind.BOARDED,
        acting_user=acting_user,
        business_date=bd,
        reason=f"Boarded from {application_ref}",
        principal=terms.principal,
        method=method,
        reference=reference,
    )
    return loan


def _terms_snapshot(terms: LoanTerms) -> dict:
    return {
        f.name: (str(v) if v is not None else None)
        for f in dataclasses.fields(terms)
        for v in [getattr(terms, f.name)]
    }


def _boarded_already(loan: Loan, *, boarding: LoanBoarding, borrower) -> Loan:
    if loan.borrower_id != borrower.pk or loan.principal_amount != boarding.terms.principal:
        raise LoanStateConflict(
            "This application was already boarded with different terms.",
            code=ErrorCode.BOARDING_MISMATCH,
        )
    return loan
