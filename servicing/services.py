"""Servicing writes. Each function validates, locks (lock_objects), writes and audits.

Other apps call these: origination calls `loan_board` inside its own durable transaction;
collections calls the fee, waiver, modification and charge-off services. Close of business
runs its own set-based steps (servicing.cob), on the same rules (servicing.calculations).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from lendcore.accounts.selectors import user_is_staff_member
from lendcore.core.sqlrows import insert_row
from lendcore.errors import PermissionDenied
from lendcore.finance.money import ZERO
from lendcore.finance.schedule import LoanTerms, build_schedule

from .accrual import accrue_loans
from .cob.catch_up import loan_catch_up
from .engine import (
    LoanBook,
    apply_in_order,
    apply_payment,
    credit_shortfall_specs,
    loan_transition,
    record_refund_fee,
    replay,
)
from .errors import ErrorCode, LoanStateConflict, ServicingValidationError
from .ledger import cr, dr, journal_post, reversal_specs
from .ledger import journal_post_many as journal_post_many  # re-exported: the one writer
from .lock_objects import business_date_lock, loan_lock, loan_lock_dated, loans_lock
from .models import (
    BORROWER_METHODS,
    Account,
    BusinessDate,
    CobRun,
    EntryType,
    Installment,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
    ScheduleVersion,
)
from .payoff import payoff_amount_on
from .selectors import (
    backdate_window_days,
    business_date_get,
    business_date_max_jump_days,
    loan_posting_state,
)
from .types import LoanBoarding
from .validation import actor as _actor
from .validation import money_validate


def _event(loan: Loan, kind: str, *, acting_user, business_date: date, reason="", **data) -> None:
    insert_row(
        LoanEvent(
            loan=loan,
            kind=kind,
            reason=reason,
            data={k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in data.items()},
            business_date=business_date,
            actor=_actor(acting_user),
        )
    )


# --------------------------------------------------------------------------- business date


@transaction.atomic
def business_date_set(*, business_date: date, acting_user) -> BusinessDate:
    """Set the lender's business date (admins; close of business advances it nightly).

    Never back into a closed day: payments would then post into books already closed (409).
    """
    row = business_date_lock()
    current = row.business_date if row is not None else business_date_get()
    jump = business_date_max_jump_days()
    if business_date > current + timedelta(days=jump):
        # close of business moves it a day at a time; a jump of centuries only makes every
        # loan's figures project interest across them
        raise ServicingValidationError.field(
            "business_date",
            f"At most {jump} days after the current business date ({current.isoformat()}).",
            code=ErrorCode.INVALID_DATE,
        )
    closed = (
        CobRun.objects.filter(status=CobRun.Status.SUCCEEDED)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )
    if closed is not None and business_date <= closed:
        raise LoanStateConflict(
            f"{business_date.isoformat()} is closed (close of business ran through "
            f"{closed.isoformat()}); the business date can only move to a later day.",
            code=ErrorCode.BUSINESS_DATE_CLOSED,
            extra={"fields": {"business_date": [f"Must be after {closed.isoformat()}."]}},
        )
    if row is None:
        row = BusinessDate(pk=1, business_date=business_date, updated_by=_actor(acting_user))
        row.save(force_insert=True)
        return row
    row.business_date = business_date
    row.updated_by = _actor(acting_user)
    row.save(update_fields=["business_date", "updated_by", "updated_at"])
    return row


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


# --------------------------------------------------------------------------- payments


def replay_floor(loan: Loan) -> date | None:
    """The earliest date a replay may start: the last applied modification's date."""
    from .models import Modification

    return (
        Modification.objects.filter(loan=loan, status=Modification.Status.APPLIED)
        .order_by("-to_schedule__effective_date")
        .values_list("to_schedule__effective_date", flat=True)
        .first()
    )


def _replay_floor_validate(loan: Loan, effective_date: date) -> None:
    _replay_floor_check(replay_floor(loan), effective_date)


def _replay_floor_check(floor: date | None, effective_date: date) -> None:
    if floor is not None and effective_date < floor:
        raise LoanStateConflict(
            f"The loan was modified on {floor.isoformat()}; transactions dated before it "
            "cannot be posted or reversed.",
            code=ErrorCode.INVALID_DATE,
        )


def _effective_date_validate(loan: Loan, effective_date: date, bd: date) -> None:
    if effective_date > bd:
        raise ServicingValidationError.field(
            "effective_date",
            f"The effective date cannot be after the business date ({bd.isoformat()}).",
            code=ErrorCode.INVALID_DATE,
        )
    if effective_date < loan.disbursed_on:
        raise ServicingValidationError.field(
            "effective_date",
            f"The effective date cannot be before disbursement ({loan.disbursed_on.isoformat()}).",
            code=ErrorCode.INVALID_DATE,
        )
    window = backdate_window_days()
    if effective_date < bd - timedelta(days=window):
        raise ServicingValidationError.field(
            "effective_date",
            f"Payments can be backdated at most {window} days.",
            code=ErrorCode.INVALID_DATE,
        )


@transaction.atomic(durable=True)
def payment_post(
    *,
    loan: Loan,
    amount: Decimal,
    effective_date: date | None = None,
    method: str,
    reference: str = "",
    acting_user,
    allow_credit: bool = False,
    on_posted: Callable[[Payment], None] | None = None,
) -> Payment:
    """Receive money: accrue to its date, allocate by the waterfall, post it.

    Staff post what they received (any method); close of business posts what the payment
    rail collected (`acting_user` None). A borrower never posts: their payments are rail
    debits (`servicing.rail_payments`), posted here by close of business once settled.
    `effective_date` defaults to the business date. A backdated payment (an earlier date
    than the loan's last accrual or a live payment) replays every later transaction; any
    other payment is applied alone, which is what the replay would do. More than the payoff
    (today's) is refused unless `allow_credit`: the loan is then paid off and the rest held
    as a refundable credit balance. On a charged-off loan the payment is a recovery
    (recoveries income) up to what was charged off; beyond it, likewise only with
    `allow_credit`. `on_posted(payment)` runs inside the transaction once the payment is
    posted (the API stores its idempotent answer there, so that the answer commits with the
    payment or not at all).
    """
    amount = money_validate(amount)
    if method not in Payment.Method.values:
        raise ServicingValidationError.field(
            "method", f"Choose one of: {', '.join(Payment.Method.values)}."
        )
    if acting_user is not None and not user_is_staff_member(acting_user):
        raise PermissionDenied(
            "Borrowers pay by debit through the payment rail: ask for a payment with "
            f"method {' or '.join(BORROWER_METHODS)}; it posts once it settles.",
            code=ErrorCode.BORROWER_PAYMENT,
        )
    loan, bd = loan_lock_dated(loan_id=loan.pk)
    loan = loan_catch_up(loan=loan, business_date=bd)  # a lagging COB closes this loan first
    if effective_date is None:
        effective_date = bd
    _effective_date_validate(loan, effective_date, bd)
    if loan.status == Loan.Status.PAID_OFF:
        raise LoanStateConflict(
            "This loan is paid off; it takes no more payments.", code=ErrorCode.LOAN_CLOSED
        )
    recovery = loan.status == Loan.Status.CHARGED_OFF
    backdated = False
    if not allow_credit:
        _credit_allowed_validate(loan, amount, bd, recovery=recovery)
    if recovery:
        if effective_date < (loan.charged_off_on or effective_date):
            raise LoanStateConflict(
                "A recovery cannot be dated before the charge-off.",
                code=ErrorCode.LOAN_CHARGED_OFF,
            )
    else:
        later, floor = loan_posting_state(loan_id=loan.pk, effective_date=effective_date)
        _replay_floor_check(floor, effective_date)
        backdated = later or effective_date < loan.last_accrual_date
    payment = Payment(
        loan=loan,
        amount=amount,
        effective_date=effective_date,
        method=method,
        reference=reference,
        is_recovery=recovery,
        posted_on=bd,
        created_by=_actor(acting_user),
    )
    if recovery or backdated:
        payment.save(force_insert=True)
        book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
        if recovery:
            apply_payment(book, payment)
        else:
            replay(
                book,
                from_date=effective_date,
                from_payment_id=payment.pk,
                accrue_through=max(loan.last_accrual_date, effective_date),
                memo=f"Replay for payment {payment.pk} dated {effective_date.isoformat()}",
            )
        book.save()
        payment.refresh_from_db()
    else:
        # Nothing after it: apply it alone (apply_payment inserts the row with its allocation).
        book = LoanBook.load_for_payment(
            loan, on=effective_date, business_date=bd, acting_user=acting_user
        )
        apply_in_order(book, payment)
        book.save()
    _event(
        loan,
        LoanEvent.Kind.PAYMENT,
        acting_user=acting_user,
        business_date=bd,
        reason=f"Payment {payment.pk}",
        payment=payment.pk,
        amount=amount,
        effective_date=effective_date,
        method=method,
    )
    if on_posted is not None:
        on_posted(payment)
    return payment


def _credit_allowed_validate(loan: Loan, amount: Decimal, bd: date, *, recovery: bool) -> None:
    """More than the loan owes today becomes a credit balance: only when asked for."""
    from .engine import recovered_so_far
    from .models import ChargeOff

    if recovery:
        charged_off = (
            ChargeOff.objects.filter(loan=loan, status=ChargeOff.Status.APPROVED)
            .order_by("-id")
            .values_list("principal", "interest", "fees")
            .first()
        )
        owed = max(sum(charged_off or (), Decimal("0.00")) - recovered_so_far(loan.pk), ZERO)
        what = "what remains of the charge-off"
    else:
        owed = payoff_amount_on(loan, bd)
        what = "the payoff today"
    if amount > owed:
        raise ServicingValidationError.field(
            "amount",
            f"{amount} is more than {what} ({owed}); to keep the rest as the borrower's "
            "refundable credit balance, post it with allow_credit.",
            code=ErrorCode.INVALID_AMOUNT,
        )


@transaction.atomic(durable=True)
def payment_reverse(*, payment: Payment, reason: str, nsf: bool = False, acting_user) -> Payment:
    """Reverse a returned payment (NSF, chargeback); replays what came after it and charges
    the NSF fee of the loan's policy when `nsf`."""
    reason = (reason or "").strip()
    if not reason:
        raise ServicingValidationError.field("reason", "Say why the payment is reversed.")
    bd = business_date_get()
    loan = loan_lock(loan_id=payment.loan_id)
    payment = Payment.objects.get(pk=payment.pk)
    if (
        payment.status not in Payment.TRANSITIONS
        or Payment.Status.REVERSED not in (Payment.TRANSITIONS[payment.status])
    ):
        raise LoanStateConflict(
            "This payment is already reversed.", code=ErrorCode.ALREADY_REVERSED
        )
    book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
    if payment.is_recovery:
        application = PaymentApplication.objects.select_related("entry").get(
            payment=payment, reversed=False
        )
        memo = f"Recovery reversed: {reason}"
        specs = reversal_specs([application.entry], memo=memo)
        journal_post_many(
            entries=specs + credit_shortfall_specs(book, specs, memo),
            business_date=bd,
            acting_user=acting_user,
            loans=[loan],
        )
        record_refund_fee(book)
        PaymentApplication.objects.filter(pk=application.pk).update(reversed=True)
    else:
        if loan.status == Loan.Status.CHARGED_OFF:
            raise LoanStateConflict(
                "Undo the charge-off before reversing a payment made before it.",
                code=ErrorCode.LOAN_CHARGED_OFF,
            )
        _replay_floor_validate(loan, payment.effective_date)
    payment.status = Payment.Status.REVERSED
    payment.reversal_reason = reason[:255]
    payment.nsf = nsf
    payment.reversed_on = bd
    payment.reversed_by = _actor(acting_user)
    payment.save(update_fields=["status", "reversal_reason", "nsf", "reversed_on", "reversed_by"])
    if not payment.is_recovery:
        replay(
            book,
            from_date=payment.effective_date,
            from_payment_id=payment.pk,
            accrue_through=max(loan.last_accrual_date, payment.effective_date),
            memo=f"Replay for reversal of payment {payment.pk}",
        )
    LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.PAYMENT_REVERSED,
        from_status=Payment.Status.POSTED,
        to_status=Payment.Status.REVERSED,
        reason=reason,
        data={"payment": payment.pk, "nsf": nsf, "amount": str(payment.amount)},
        business_date=bd,
        actor=_actor(acting_user),
    )
    if nsf and loan.nsf_fee > 0 and loan.status == Loan.Status.ACTIVE:
        from .fees import fee_assess_in_book

        fee_assess_in_book(
            book,
            kind="nsf",
            amount=loan.nsf_fee,
            reason=f"Returned payment {payment.pk}: {reason}"[:255],
            payment=payment,
        )
    book.save()
    return payment


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


# --------------------------------------------------------------------------- fees, payoff

from .fees import fee_assess, fee_waive, late_fees_assess  # noqa: E402
from .payoff import PayoffQuote  # noqa: E402
from .selectors import payoff_quote  # noqa: E402


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


from .modify import (  # noqa: E402
    charge_off_decide,
    charge_off_request,
    charge_off_undo,
    loan_modify,
    modification_decide,
)
from .statements import statement_generate, statements_generate_due  # noqa: E402

__all__ = [
    "PayoffQuote",
    "accrue_interest",
    "business_date_set",
    "charge_off_decide",
    "charge_off_request",
    "charge_off_undo",
    "credit_refund",
    "fee_assess",
    "fee_waive",
    "journal_post",
    "journal_post_many",
    "late_fees_assess",
    "loan_board",
    "loan_flags_set",
    "loan_modify",
    "loan_transition",
    "modification_decide",
    "money_validate",
    "payment_post",
    "payment_reverse",
    "payoff_quote",
    "statement_generate",
    "statements_generate_due",
]
