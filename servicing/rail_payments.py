"""Borrower payments through the payment rail: a borrower never moves money by declaring it.

A borrower (portal or API) asks for a one-time payment: a `RailTransfer` of kind `one_time`
that debits their bank account (`ach`) or debit card (`debit_card`). It is `requested` until
close of business sends it to the rail (the borrower or staff may cancel it until then),
`pending` until the rail settles it, and only then posted through `payment_post`, dated the
day it was requested (a backdated payment replays what came after it). A return (NSF) posts
nothing and charges the loan's NSF fee.

    requested --COB sends--> pending --COB: rail settled--> settled (payment posted)
        |                       |------COB: rail returned--> returned (NSF fee)
        |                       `------payment_post refused-> failed (error kept)
        `--borrower or staff cancels--> cancelled

Writes: `payment_request_create`, `payment_request_cancel`, and `rail_payments_process` (step
of close of business, per loan id range, before the partition's transaction). Reads:
`loan_payment_requests`, `payment_request_get_visible`, `payment_request_rows`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import borrower_for_user, user_can, user_is_staff_member
from lendcore.core import crypto
from lendcore.core.state import transition
from lendcore.errors import ApplicationError, PermissionDenied
from lendcore.finance.money import ZERO

from .autopay import ROUTING_CHECK_MESSAGE, routing_number_valid
from .cob.rails import ONE_TIME, PaymentRail, payment_rail
from .errors import (
    ErrorCode,
    LoanNotFound,
    LoanStateConflict,
    ServicingNotFound,
    ServicingValidationError,
)
from .loan_access import loan_ref
from .lock_objects import loan_lock, loan_lock_dated, loans_lock
from .models import BORROWER_METHODS, Loan, LoanEvent, Payment, PaymentMethod, RailTransfer
from .payoff import payoff_amount_on
from .services import fee_assess, payment_post
from .validation import actor as _actor
from .validation import money_validate
from .webhook_events import loan_event

Status = RailTransfer.Status

# The timeline's kind for a payment request's transitions (from_status -> to_status, the
# request's id in `data`).
EVENT_KIND = LoanEvent.Kind.PAYMENT_REQUEST

# Not posted yet: what is on its way counts against the payoff of a new request.
IN_FLIGHT = (Status.REQUESTED, Status.PENDING)

ACH_ACCOUNT_DIGITS = (4, 17)
CARD_DIGITS = (13, 19)
ROUTING_DIGITS = 9

METHOD_MESSAGE = (
    "Staff post cash, check and wire payments; pay by bank account (ach) or debit card "
    "(debit_card)."
)
ACH_ACCOUNT_MESSAGE = "Enter the bank account number: 4 to 17 digits."
ROUTING_MESSAGE = "Enter the bank's routing number: 9 digits."
CARD_MESSAGE = "Enter the debit card number: 13 to 19 digits."

METHOD_LABELS: dict[str, str] = {
    PaymentMethod.ACH: "Bank account",
    PaymentMethod.DEBIT_CARD: "Debit card",
}


def _reference(transfer: RailTransfer) -> str:
    """The rail's reference of the debit and the posted payment's reference."""
    return f"RAIL-{transfer.pk}"


def _digits(value: object) -> str | None:
    """The digits of an account or card number as people type it ("4111 1111-1111 1111"),
    or None when anything else is in it (or it is not text at all)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return None
    text = value.replace(" ", "").replace("-", "")
    return text if text.isascii() and text.isdigit() else None


def account_fingerprint(account_number: object) -> str:
    """A keyed hash of an account number: what an idempotency fingerprint may keep of it
    (whatever was sent: the body is validated after its fingerprint is taken)."""
    digits = _digits(account_number) or repr(account_number)
    return salted_hmac("servicing.rail_payments.account", digits).hexdigest()


def payment_request_input_errors(
    *, method: str, account_number: str | None, routing_number: str | None
) -> dict[str, list[str]]:
    """The borrower's method and account, checked without the database (the portal's review
    step shows these before anything is asked for): {field: [messages]}, empty when good."""
    if method not in BORROWER_METHODS:
        return {"method": [METHOD_MESSAGE]}
    errors: dict[str, list[str]] = {}
    account = _digits(account_number)
    if method == PaymentMethod.ACH:
        low, high = ACH_ACCOUNT_DIGITS
        if account is None or not low <= len(account) <= high:
            errors["account_number"] = [ACH_ACCOUNT_MESSAGE]
        routing = _digits(routing_number)
        if routing is None or len(routing) != ROUTING_DIGITS:
            errors["routing_number"] = [ROUTING_MESSAGE]
        elif not routing_number_valid(routing):  # a mistyped digit, caught before the rail
            errors["routing_number"] = [ROUTING_CHECK_MESSAGE]
    else:
        low, high = CARD_DIGITS
        if account is None or not low <= len(account) <= high:
            errors["account_number"] = [CARD_MESSAGE]
    return errors


def _invalid(fields: dict[str, list[str]]) -> ServicingValidationError:
    if len(fields) == 1:
        message = next(iter(fields.values()))[0]
    else:
        message = f"Invalid input: {', '.join(sorted(fields))}."
    return ServicingValidationError(message, code="invalid", extra={"fields": fields})


def _authorize(loan: Loan, acting_user, *, missing: ApplicationError) -> None:
    """Staff with `service_loans`, or the loan's own borrower (anyone else: `missing`, 404).
    `acting_user` None is the system (close of business, demo data)."""
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
        raise missing


def _event(
    transfer: RailTransfer,
    *,
    from_status: str,
    to_status: str,
    business_date: date,
    acting_user,
    reason: str,
) -> LoanEvent:
    """The timeline row of a change the set-based, compare-and-set UPDATEs of close of
    business made (`transition()` writes its own)."""
    return transfer.status_event(
        from_status=from_status,
        to_status=to_status,
        actor=_actor(acting_user),
        reason=reason,
        business_date=business_date,
    )


def _describe(transfer: RailTransfer) -> str:
    label = METHOD_LABELS.get(transfer.method, transfer.method)
    account = f"{label} ****{transfer.account_last4}"
    return f"Payment request {transfer.pk} of {transfer.amount:,.2f} ({account})"


# --------------------------------------------------------------------------- writes


@transaction.atomic
def payment_request_create(
    *,
    loan: Loan,
    amount: Decimal,
    method: str,
    account_number: str = "",
    routing_number: str = "",
    acting_user,
    business_date: date | None = None,
    on_created: Callable[[RailTransfer], None] | None = None,
) -> RailTransfer:
    """Ask for a one-time payment through the rail, dated the business date (`business_date`,
    when given, must be it: a borrower's payment is not backdated; 400 naming
    `effective_date`).

    The loan's borrower (or staff with `service_loans`). 400 naming each bad field: `method`
    (ach or debit_card), `amount` (above 0, not above today's payoff less the requests still
    on their way), `account_number` (ACH 4-17 digits, a card 13-19), `routing_number` (ACH, 9
    digits with a valid ABA check digit); 409 unless the loan is active.
    `on_created(transfer)` runs inside the transaction, last (the API stores its idempotent
    answer there)."""
    loan, bd = loan_lock_dated(loan_id=loan.pk)
    _authorize(
        loan, acting_user, missing=LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    )
    fields: dict[str, list[str]] = {}
    try:
        amount = money_validate(amount)
    except ServicingValidationError as error:
        fields.update(error.extra.get("fields", {}))
    fields.update(
        payment_request_input_errors(
            method=method, account_number=account_number, routing_number=routing_number
        )
    )
    if business_date is not None and business_date != bd:
        fields["effective_date"] = [
            f"Borrowers' payments are dated the business date ({bd.isoformat()})."
        ]
    if fields:
        raise _invalid(fields)
    if loan.status != Loan.Status.ACTIVE:
        raise LoanStateConflict(
            f"This loan is {loan.get_status_display().lower()}; it takes no payments.",
            code=ErrorCode.LOAN_CLOSED
            if loan.status == Loan.Status.PAID_OFF
            else ErrorCode.LOAN_CHARGED_OFF,
        )
    payoff = payoff_amount_on(loan, bd)
    in_flight = (
        RailTransfer.objects.filter(loan_id=loan.pk, kind=ONE_TIME, status__in=IN_FLIGHT).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )
    limit = max(payoff - in_flight, ZERO)
    if amount > limit:
        if in_flight:
            message = (
                f"The amount can be at most {limit:,.2f}: the payoff today is {payoff:,.2f} "
                f"and {in_flight:,.2f} is already on its way in payments not settled yet."
            )
        else:
            message = f"The amount can be at most the payoff today, {payoff:,.2f}."
        raise ServicingValidationError.field("amount", message, code=ErrorCode.INVALID_AMOUNT)
    account = _digits(account_number) or ""
    rail = payment_rail()
    transfer = RailTransfer.objects.create(
        loan=loan,
        kind=ONE_TIME,
        method=method,
        account_encrypted=crypto.encrypt(account),
        account_last4=account[-4:],
        routing_number_encrypted=crypto.encrypt_or_empty(
            _digits(routing_number) if method == PaymentMethod.ACH else ""
        ),
        business_date=bd,
        amount=amount,
        rail=rail.name,
        status=Status.REQUESTED,
        requested_by=_actor(acting_user),
    )
    _event(
        transfer,
        from_status="",
        to_status=Status.REQUESTED,
        business_date=bd,
        acting_user=acting_user,
        reason=f"{_describe(transfer)} requested",
    ).save(force_insert=True)
    loan_event(
        "payment.pending",
        loan,
        payment_request_id=transfer.pk,
        amount=amount,
        method=method,
        requested_on=bd,
    )
    if on_created is not None:
        on_created(transfer)
    return transfer


@transaction.atomic
def payment_request_cancel(*, transfer: RailTransfer, acting_user) -> RailTransfer:
    """Cancel a one-time payment not sent yet (`requested`); 409 once close of business sent
    it. The loan's borrower, or staff with `service_loans`; others 404."""
    missing = ServicingNotFound(
        "No such payment request.", code=ErrorCode.PAYMENT_REQUEST_NOT_FOUND
    )
    loan, bd = loan_lock_dated(loan_id=transfer.loan_id)
    _authorize(loan, acting_user, missing=missing)
    current = RailTransfer.objects.filter(pk=transfer.pk, kind=ONE_TIME).first()
    if current is None:
        raise missing
    if Status.CANCELLED not in RailTransfer.TRANSITIONS.get(current.status, ()):
        raise LoanStateConflict(
            _not_cancellable(current), code=ErrorCode.PAYMENT_REQUEST_NOT_CANCELLABLE
        )
    current.cancelled_at = timezone.now()
    transition(
        current,
        to=Status.CANCELLED,
        acting_user=acting_user,
        reason=f"{_describe(current)} cancelled",
        update_fields=["cancelled_at"],
        error=LoanStateConflict,
        business_date=bd,
    )
    return current


def _not_cancellable(transfer: RailTransfer) -> str:
    if transfer.status == Status.PENDING:
        return (
            "This payment was already sent to the bank at close of business; it can no "
            "longer be cancelled."
        )
    if transfer.status == Status.SETTLED:
        return "This payment has settled and was posted; it can no longer be cancelled."
    if transfer.status == Status.CANCELLED:
        return "This payment is already cancelled."
    return f"This payment is {transfer.get_status_display().lower()}; there is nothing to cancel."


# --------------------------------------------------------------------------- close of business


def rail_payments_process(*, lo: int, hi: int, on: date) -> dict[str, int]:
    """Close of business of `on` for loans [lo, hi]: send the one-time payments requested
    through `on` to the rail, then settle those whose settle date has come (the sandbox rail
    settles a one-time debit at the close of business that sends it).

    Runs before the partition's transaction (`payment_post` is a durable transaction of its
    own), idempotent: each step moves a transfer on only from the status it expects, and a
    payment posted for a transfer is found by its reference and linked, never posted twice.
    Returns counts: sent, settled, returned, failed."""
    rail = payment_rail()
    counts = {"sent": _send(rail, lo=lo, hi=hi, on=on), "settled": 0, "returned": 0, "failed": 0}
    due = (
        RailTransfer.objects.filter(
            loan_id__gte=lo,
            loan_id__lte=hi,
            kind=ONE_TIME,
            status=Status.PENDING,
            settle_on__lte=on,
        )
        .exclude(rail_reference="")
        .order_by("pk")
    )
    for transfer in due:
        result = rail.settlement(
            reference=transfer.rail_reference,
            account_number=crypto.decrypt(transfer.account_encrypted),
            settle_on=transfer.settle_on or on,  # never None here (settle_on <= on)
            on=on,
        )
        if result.status == "settled":
            counts[_post(transfer, on)] += 1
        elif result.status == "returned":
            counts["returned"] += _return(transfer, result.return_code, on)
    return counts


def _send(rail: PaymentRail, *, lo: int, hi: int, on: date) -> int:
    """`requested` -> `pending` under the loans' locks (a cancel waits, then finds it sent),
    committed before the rail is called (no network call inside a transaction); then each
    pending transfer without a rail reference is debited. A crash between the two leaves
    pending transfers without a reference: the retry debits them (the rail's reference is the
    transfer's)."""
    requested = RailTransfer.objects.filter(
        loan_id__gte=lo,
        loan_id__lte=hi,
        kind=ONE_TIME,
        status=Status.REQUESTED,
        business_date__lte=on,
    )
    loan_ids = set(requested.values_list("loan_id", flat=True))
    if loan_ids:
        with transaction.atomic():
            loans_lock(loan_ids=loan_ids)
            claimed = list(requested.filter(loan_id__in=loan_ids).order_by("pk"))
            RailTransfer.objects.filter(pk__in=[t.pk for t in claimed]).update(
                status=Status.PENDING
            )
            LoanEvent.objects.bulk_create(
                [
                    _event(
                        t,
                        from_status=Status.REQUESTED,
                        to_status=Status.PENDING,
                        business_date=on,
                        acting_user=None,
                        reason=f"{_describe(t)} sent to the payment rail",
                    )
                    for t in claimed
                ]
            )
    sent = 0
    unsent = RailTransfer.objects.filter(
        loan_id__gte=lo, loan_id__lte=hi, kind=ONE_TIME, status=Status.PENDING, rail_reference=""
    ).order_by("pk")
    for transfer in unsent:
        result = rail.debit(
            account_number=crypto.decrypt(transfer.account_encrypted),
            routing_number=transfer.routing_number,
            amount=transfer.amount,
            on=on,
            reference=_reference(transfer),
            kind=ONE_TIME,
        )
        sent += RailTransfer.objects.filter(
            pk=transfer.pk, status=Status.PENDING, rail_reference=""
        ).update(rail_reference=result.reference, settle_on=result.settle_on)
    return sent


def _settled(transfer: RailTransfer, payment_id: int, business_date: date) -> None:
    """Inside the loan's lock: pending -> settled, linked to its payment (once)."""
    linked = RailTransfer.objects.filter(pk=transfer.pk, status=Status.PENDING).update(
        status=Status.SETTLED, payment_id=payment_id
    )
    if linked:
        transfer.status, transfer.payment_id = Status.SETTLED, payment_id
        _event(
            transfer,
            from_status=Status.PENDING,
            to_status=Status.SETTLED,
            business_date=business_date,
            acting_user=None,
            reason=f"{_describe(transfer)} settled: payment {payment_id}",
        ).save(force_insert=True)


def _post(transfer: RailTransfer, on: date) -> str:
    """Post a settled transfer once: a payment already posted for it (a crash between
    posting and linking, before `on_posted` linked in the same transaction) is linked."""
    found = (
        Payment.objects.filter(
            loan_id=transfer.loan_id,
            reference=_reference(transfer),
            amount=transfer.amount,
            created_by__isnull=True,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        with transaction.atomic():
            loan_lock(loan_id=transfer.loan_id)
            _settled(transfer, found, on)
        return "settled"
    try:
        payment_post(
            loan=loan_ref(transfer.loan_id),
            amount=transfer.amount,
            effective_date=transfer.business_date,  # the day the borrower asked
            method=transfer.method,
            reference=_reference(transfer),
            acting_user=None,
            # the money arrived: a payoff that shrank meanwhile leaves a refundable credit
            allow_credit=True,
            on_posted=lambda payment: _settled(transfer, payment.pk, payment.posted_on),
        )
    except ApplicationError as error:  # not postable (paid off, dated too far back, ...)
        with transaction.atomic():
            loan = loan_lock(loan_id=transfer.loan_id)
            failed = RailTransfer.objects.filter(pk=transfer.pk, status=Status.PENDING).update(
                status=Status.FAILED, error=error.message
            )
            if failed:
                _event(
                    transfer,
                    from_status=Status.PENDING,
                    to_status=Status.FAILED,
                    business_date=on,
                    acting_user=None,
                    reason=f"{_describe(transfer)} settled but not posted: {error.message}",
                ).save(force_insert=True)
                loan_event(
                    "payment.returned",
                    loan,
                    payment_request_id=transfer.pk,
                    amount=transfer.amount,
                    status=Status.FAILED,
                    reason=error.message,
                )
        return "failed"
    return "settled"


def _return(transfer: RailTransfer, return_code: str, on: date) -> int:
    """pending -> returned and the loan's NSF fee, in one transaction (nothing was posted,
    so nothing is reversed)."""
    with transaction.atomic():
        loan = loan_lock(loan_id=transfer.loan_id)
        returned = RailTransfer.objects.filter(pk=transfer.pk, status=Status.PENDING).update(
            status=Status.RETURNED, return_code=return_code
        )
        if not returned:
            return 0
        transfer.status, transfer.return_code = Status.RETURNED, return_code
        _event(
            transfer,
            from_status=Status.PENDING,
            to_status=Status.RETURNED,
            business_date=on,
            acting_user=None,
            reason=f"{_describe(transfer)} returned ({return_code})",
        ).save(force_insert=True)
        loan_event(
            "payment.returned",
            loan,
            payment_request_id=transfer.pk,
            amount=transfer.amount,
            status=Status.RETURNED,
            return_code=return_code,
        )
        if loan.nsf_fee > 0 and loan.status == Loan.Status.ACTIVE:
            fee_assess(
                loan=loan,
                kind="nsf",
                amount=loan.nsf_fee,
                reason=f"Returned payment request {transfer.pk} ({return_code})",
                acting_user=None,
            )
    return 1
