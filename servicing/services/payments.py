"""Payments: post (with replay when backdated) and reverse."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_is_staff_member
from lendcore.core.external_ids import (
    external_id_check,
    external_id_guard,
    external_id_normalize,
)
from lendcore.core.sqlrows import insert_together, model_values
from lendcore.core.state import transition
from lendcore.core.write_batch import coalesced_writes, reservation
from lendcore.errors import PermissionDenied
from lendcore.finance.money import ZERO
from lendcore.webhooks.outbox import delivery_kick_on_commit
from servicing.cob.catch_up import loan_catch_up
from servicing.engine import (
    LoanBook,
    apply_in_order,
    apply_payment,
    credit_shortfall_specs,
    record_refund_fee,
    recovered_so_far,
    replay,
)
from servicing.errors import ErrorCode, LoanStateConflict, ServicingValidationError
from servicing.fees import fee_assess_in_book
from servicing.ledger import journal_post_many, reversal_specs
from servicing.lock_objects import loan_lock, loan_lock_dated
from servicing.models import (
    BORROWER_METHODS,
    ChargeOff,
    JournalEntry,
    Loan,
    LoanEvent,
    Modification,
    Payment,
    PaymentApplication,
)
from servicing.payoff import payoff_amount_on
from servicing.selectors import (
    backdate_window_days,
    business_date_get,
    loan_posting_state,
)
from servicing.validation import actor as _actor
from servicing.validation import money_validate, permission_require
from servicing.webhook_events import loan_event, loan_event_values

from ._shared import _event_row

# --------------------------------------------------------------------------- payments


def replay_floor(loan: Loan) -> date | None:
    """The earliest date a replay may start: the last applied modification's date."""
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
    external_id: str | None = None,
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
    payment or not at all). `external_id` is the caller's own id for the payment (unique
    among the caller's payments: 409 `external_id_taken` otherwise); without one, no query
    is added.
    """
    amount = money_validate(amount)
    external_id = external_id_normalize(external_id or None)
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
    permission_require(acting_user, Action.POST_PAYMENT)
    owner = _actor(acting_user) if external_id is not None else None
    if external_id is not None:
        external_id_check(Payment, owner=owner, external_id=external_id)
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
    was_active = loan.status == Loan.Status.ACTIVE
    backdated = False
    if not allow_credit:
        _credit_allowed_validate(loan, amount, bd, recovery=recovery)
    # From here the payment's writes wait and go out together: one statement on PostgreSQL
    # (the payment, its journal entry and allocation, the loan and installments, the
    # events and the idempotent answer), their keys drawn by the posting state's read.
    with coalesced_writes() as writes:
        if recovery:
            if effective_date < (loan.charged_off_on or effective_date):
                raise LoanStateConflict(
                    "A recovery cannot be dated before the charge-off.",
                    code=ErrorCode.LOAN_CHARGED_OFF,
                )
        else:
            later, floor = loan_posting_state(
                loan_id=loan.pk,
                effective_date=effective_date,
                reserve=reservation(writes, Payment, JournalEntry, PaymentApplication),
            )
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
            external_id=external_id,
            external_id_owner=owner,
        )
        # with an id, a savepoint turns a concurrent request's taking it first (the unique
        # constraint) into the same 409 as the check's; without one, nothing is added
        guard = (
            external_id_guard(Payment, owner=owner, external_id=external_id)
            if external_id is not None
            else nullcontext()
        )
        with guard:
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
                # Nothing after it: apply it alone (apply_payment inserts the row with its
                # allocation).
                book = LoanBook.load_for_payment(
                    loan, on=effective_date, business_date=bd, acting_user=acting_user
                )
                apply_in_order(book, payment)
                book.save()
        # the loan's event and the webhooks' event (they wait with the payment's rows)
        insert_together(
            [
                model_values(
                    _event_row(
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
                ),
                loan_event_values(
                    "payment.posted",
                    loan,
                    payment_id=payment.pk,
                    amount=amount,
                    effective_date=effective_date,
                    method=method,
                    reference=reference,
                    is_recovery=recovery,
                ),
            ]
        )
        delivery_kick_on_commit()
        if was_active and loan.status == Loan.Status.PAID_OFF:
            loan_event("loan.paid_off", loan, payment_id=payment.pk, paid_off_on=effective_date)
        if on_posted is not None:
            on_posted(payment)
    return payment


def _credit_allowed_validate(loan: Loan, amount: Decimal, bd: date, *, recovery: bool) -> None:
    """More than the loan owes today becomes a credit balance: only when asked for."""
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
    permission_require(acting_user, Action.REVERSE_PAYMENT)
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
    payment.reversal_reason = reason[:255]
    payment.nsf = nsf
    payment.reversed_on = bd
    payment.reversed_by = _actor(acting_user)
    transition(
        payment,
        to=Payment.Status.REVERSED,
        acting_user=acting_user,
        reason=reason,
        update_fields=["reversal_reason", "nsf", "reversed_on", "reversed_by"],
        error=LoanStateConflict,
        business_date=bd,
        data={"payment": payment.pk, "nsf": nsf, "amount": str(payment.amount)},
    )
    if not payment.is_recovery:
        replay(
            book,
            from_date=payment.effective_date,
            from_payment_id=payment.pk,
            accrue_through=max(loan.last_accrual_date, payment.effective_date),
            memo=f"Replay for reversal of payment {payment.pk}",
        )
    if nsf and loan.nsf_fee > 0 and loan.status == Loan.Status.ACTIVE:
        fee_assess_in_book(
            book,
            kind="nsf",
            amount=loan.nsf_fee,
            reason=f"Returned payment {payment.pk}: {reason}"[:255],
            payment=payment,
        )
    book.save()
    loan_event(
        "payment.reversed",
        loan,
        payment_id=payment.pk,
        amount=payment.amount,
        reason=payment.reversal_reason,
        nsf=nsf,
    )
    return payment
