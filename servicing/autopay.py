"""Autopay enrolment: the borrower's standing authorization to debit a bank account for each
installment due (close of business debits it: `servicing.cob.autopay`).

A preauthorized electronic fund transfer from a consumer's account needs the consumer's
written (here electronic) authorization, a copy of its terms and a way to stop it
(Regulation E, 12 CFR 1005.10(b) and (c)). The portal shows `AUTHORIZATION_TEXT` beside a
required consent box; the enrolment's timeline event and audit record keep which text was
agreed to (`AUTHORIZATION_VERSION`), by whom and when.

Writes: `autopay_enrol` (replaces an active enrolment), `autopay_cancel`. The loan's borrower,
staff with `service_loans` on the borrower's request, or the system (acting_user None: demo
data, scenarios); anyone else gets 404. Only an active loan: otherwise 409, nothing changed.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import borrower_for_user, user_can, user_is_staff_member
from lendcore.core import crypto
from lendcore.core.audit import audit_record
from lendcore.errors import PermissionDenied

from .errors import (
    ErrorCode,
    LoanNotFound,
    LoanStateConflict,
    ServicingValidationError,
)
from .lock_objects import loan_lock_dated
from .models import AutopayEnrolment, Loan, LoanEvent
from .services._shared import _event

ACCOUNT_DIGITS = (4, 17)
ROUTING_DIGITS = 9
ABA_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)

ACCOUNT_MESSAGE = "Enter the bank account number: 4 to 17 digits."
ROUTING_MESSAGE = "Enter the bank's routing number: 9 digits."
ROUTING_CHECK_MESSAGE = (
    "This is not a valid routing number (its check digit does not match); check the 9 digits "
    "at the bottom left of a check."
)
AUTHORIZED_MESSAGE = "Tick the box to authorize the automatic debits."

# Bump the version whenever the text changes: the records name the version agreed to.
AUTHORIZATION_VERSION = "autopay-2026-12-v1"
AUTHORIZATION_TEXT = (
    "I authorize the lender to debit the bank account above by ACH for each installment of "
    "this loan on its due date, in the amount then due: the scheduled installment plus any "
    "past-due installments and fees, never more than the payoff amount. The debits recur "
    "until the loan is paid off or I cancel. I can cancel at any time on this page or by "
    "calling customer service; a cancellation made before close of business of a due date "
    "stops that day's debit, and I may also stop a payment through my bank by telling it at "
    "least three business days before the scheduled debit. A returned debit may be charged "
    "the loan's returned-payment fee. I can print or save this page as my copy of this "
    "authorization."
)

EVENT_KIND = LoanEvent.Kind.AUTOPAY


def _digits(value: object) -> str | None:
    """The digits of a number as people type it ("0001 2345-6789"), or None when anything
    else is in it (or it is not text at all)."""
    if not isinstance(value, str):
        return None
    text = value.replace(" ", "").replace("-", "")
    return text if text and text.isascii() and text.isdigit() else None


def routing_number_valid(routing_number: str) -> bool:
    """The ABA routing number's check digit: 3, 7, 1 weights over the 9 digits sum to a
    multiple of 10."""
    if len(routing_number) != ROUTING_DIGITS or not routing_number.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(routing_number, ABA_WEIGHTS, strict=True))
    return total % 10 == 0


def autopay_input_errors(*, account_number: object, routing_number: object) -> dict[str, list[str]]:
    """The account and routing numbers, checked without the database (the forms show these
    before anything is asked for): {field: [messages]}, empty when good."""
    errors: dict[str, list[str]] = {}
    account = _digits(account_number)
    low, high = ACCOUNT_DIGITS
    if account is None or not low <= len(account) <= high:
        errors["account_number"] = [ACCOUNT_MESSAGE]
    routing = _digits(routing_number)
    if routing is None or len(routing) != ROUTING_DIGITS:
        errors["routing_number"] = [ROUTING_MESSAGE]
    elif not routing_number_valid(routing):
        errors["routing_number"] = [ROUTING_CHECK_MESSAGE]
    return errors


def _invalid(fields: dict[str, list[str]]) -> ServicingValidationError:
    if len(fields) == 1:
        message = next(iter(fields.values()))[0]
    else:
        message = f"Invalid input: {', '.join(sorted(fields))}."
    return ServicingValidationError(message, code="invalid", extra={"fields": fields})


def _authorize(loan: Loan, acting_user) -> None:
    """Staff with `service_loans`, or the loan's own borrower (anyone else: 404).
    `acting_user` None is the system."""
    if acting_user is None:
        return
    if user_is_staff_member(acting_user):
        if not user_can(acting_user, Action.POST_PAYMENT):
            raise PermissionDenied(
                "This action needs a staff role with: service_loans", code="permission_denied"
            )
        return
    borrower = borrower_for_user(acting_user)
    if borrower is None or borrower.pk != loan.borrower_id:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)


def _require_active(loan: Loan, what: str) -> None:
    if loan.status == Loan.Status.ACTIVE:
        return
    raise LoanStateConflict(
        f"This loan is {loan.get_status_display().lower()}; {what}",
        code=ErrorCode.LOAN_CLOSED
        if loan.status == Loan.Status.PAID_OFF
        else ErrorCode.LOAN_CHARGED_OFF,
        extra={"status": loan.status},
    )


def _on_behalf(loan: Loan, acting_user) -> bool:
    return acting_user is not None and user_is_staff_member(acting_user)


def autopay_enrol(
    *,
    loan: Loan,
    account_number: str,
    routing_number: str,
    acting_user=None,
    authorized: bool = False,
) -> AutopayEnrolment:
    """Enrol an active loan in autopay from a bank account; an active enrolment is replaced
    (cancelled now). 400 naming each bad field: `account_number` (4-17 digits),
    `routing_number` (9 digits with a valid ABA check digit), `authorized` (a person, the
    borrower or staff on the borrower's request, must confirm the borrower's authorization);
    409 unless the loan is active. Recorded on the loan's timeline and in the audit trail."""
    fields = autopay_input_errors(account_number=account_number, routing_number=routing_number)
    if acting_user is not None and not authorized:
        fields["authorized"] = [AUTHORIZED_MESSAGE]
    with transaction.atomic():
        loan, bd = loan_lock_dated(loan_id=loan.pk)
        _authorize(loan, acting_user)
        if fields:
            raise _invalid(fields)
        _require_active(loan, "it cannot be enrolled in autopay.")
        account = _digits(account_number) or ""
        routing = _digits(routing_number) or ""
        replaced = list(
            AutopayEnrolment.objects.filter(loan=loan, active=True).values_list("pk", flat=True)
        )
        if replaced:
            AutopayEnrolment.objects.filter(pk__in=replaced).update(
                active=False, cancelled_at=timezone.now()
            )
        enrolment = AutopayEnrolment.objects.create(
            loan=loan,
            account_encrypted=crypto.encrypt(account),
            routing_number_encrypted=crypto.encrypt(routing),
            account_last4=account[-4:],
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        on_behalf = _on_behalf(loan, acting_user)
        _event(
            loan,
            EVENT_KIND,
            acting_user=acting_user,
            business_date=bd,
            reason=f"Autopay enrolled from bank account ****{enrolment.account_last4}"
            + (" (by staff, on the borrower's request)" if on_behalf else ""),
            enrolment=enrolment.pk,
            replaced=replaced,
            authorization=AUTHORIZATION_VERSION,
        )
        audit_record(
            action="autopay_enrolled",
            actor=acting_user,
            actor_name="" if acting_user is not None else "system",
            obj=enrolment,
            loan=loan.pk,
            last4=enrolment.account_last4,
            replaced=replaced,
            authorization=AUTHORIZATION_VERSION,
            on_behalf=on_behalf,
        )
    return enrolment


def autopay_cancel(*, loan: Loan, acting_user=None) -> AutopayEnrolment:
    """Cancel the loan's active autopay enrolment (active False, cancelled now): no debit is
    sent after this. 409 when the loan has none or is not active. Recorded on the loan's
    timeline and in the audit trail."""
    with transaction.atomic():
        loan, bd = loan_lock_dated(loan_id=loan.pk)
        _authorize(loan, acting_user)
        _require_active(loan, "its autopay cannot change.")
        enrolment = AutopayEnrolment.objects.filter(loan=loan, active=True).first()
        if enrolment is None:
            raise LoanStateConflict(
                "This loan is not enrolled in autopay; there is nothing to cancel.",
                code=ErrorCode.AUTOPAY_NOT_ENROLLED,
            )
        enrolment.active = False
        enrolment.cancelled_at = timezone.now()
        enrolment.save(update_fields=["active", "cancelled_at"])
        on_behalf = _on_behalf(loan, acting_user)
        _event(
            loan,
            EVENT_KIND,
            acting_user=acting_user,
            business_date=bd,
            reason=f"Autopay from bank account ****{enrolment.account_last4} cancelled"
            + (" (by staff, on the borrower's request)" if on_behalf else ""),
            enrolment=enrolment.pk,
            cancelled=True,
        )
        audit_record(
            action="autopay_cancelled",
            actor=acting_user,
            actor_name="" if acting_user is not None else "system",
            obj=enrolment,
            loan=loan.pk,
            last4=enrolment.account_last4,
            on_behalf=on_behalf,
        )
    return enrolment
