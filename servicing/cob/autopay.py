"""Step 1 of COB: autopay. Installments due today on enrolled loans are debited through the
payment rail and posted through `payment_post`; debits whose settle date has come are
settled, or reversed through `payment_reverse` with the NSF fee when the rail returns them.

Runs per partition before the partition's transaction (payment_post and payment_reverse
are durable transactions of their own). Exactly once per installment: a RailTransfer row is
unique per installment and written before the rail is called; a retry links the payment it
finds by reference instead of posting again.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from ..models import (
    AutopayEnrolment,
    Installment,
    InstallmentStatus,
    Loan,
    Payment,
    RailTransfer,
)
from . import crypto
from .rails import payment_rail


def autopay_enrol(
    *, loan: Loan, account_number: str, routing_number: str = "", acting_user=None
) -> AutopayEnrolment:
    """Enrol a loan in autopay (replaces an active enrolment)."""
    from ..errors import ServicingValidationError

    digits = "".join(ch for ch in account_number or "" if ch.isdigit())
    if not 4 <= len(digits) <= 17:
        raise ServicingValidationError.field("account_number", "Enter 4 to 17 digits.")
    with transaction.atomic():
        AutopayEnrolment.objects.filter(loan=loan, active=True).update(active=False)
        return AutopayEnrolment.objects.create(
            loan=loan,
            account_encrypted=crypto.encrypt(digits),
            routing_number=(routing_number or "")[:9],
            account_last4=digits[-4:],
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )


def _reference(transfer: RailTransfer) -> str:
    return f"AUTOPAY-{transfer.pk}"


def autopay_settle(*, lo: int, hi: int, on: date) -> dict[str, int]:
    """Settle or return the pending debits of loans [lo, hi] whose settle date has come."""
    from ..services import payment_reverse

    rail = payment_rail()
    counts = {"settled": 0, "returned": 0}
    pending = (
        RailTransfer.objects.filter(
            loan_id__gte=lo, loan_id__lte=hi, status=RailTransfer.Status.PENDING, settle_on__lte=on
        )
        .select_related("enrolment", "payment")
        .order_by("pk")
    )
    for transfer in pending:
        result = rail.settlement(
            reference=transfer.rail_reference,
            account_number=crypto.decrypt(transfer.enrolment.account_encrypted),
            settle_on=transfer.settle_on,
            on=on,
        )
        if result.status == "settled":
            RailTransfer.objects.filter(pk=transfer.pk).update(status=RailTransfer.Status.SETTLED)
            counts["settled"] += 1
        elif result.status == "returned":
            payment = transfer.payment
            if payment is not None and payment.status == Payment.Status.POSTED:
                payment_reverse(
                    payment=payment,
                    reason=f"Autopay debit returned ({result.return_code}: insufficient funds)",
                    nsf=True,
                    acting_user=None,
                )
            RailTransfer.objects.filter(pk=transfer.pk).update(
                status=RailTransfer.Status.RETURNED, return_code=result.return_code
            )
            counts["returned"] += 1
    return counts


def autopay_collect(*, lo: int, hi: int, on: date) -> int:
    """Debit every installment due `on` of enrolled active loans [lo, hi]; post payments."""
    from ..errors import LoanStateConflict
    from ..services import payment_post

    rail = payment_rail()
    due = (
        Installment.objects.filter(
            loan_id__gte=lo,
            loan_id__lte=hi,
            schedule__is_current=True,
            due_date=on,
            loan__status=Loan.Status.ACTIVE,
            loan__autopay_enrolments__active=True,
        )
        .exclude(status=InstallmentStatus.PAID)
        .values_list("pk", "loan_id")
        .order_by("loan_id", "pk")
    )
    posted = 0
    for installment_id, loan_id in due:
        transfer = RailTransfer.objects.filter(installment_id=installment_id).first()
        if transfer is None:
            inst = Installment.objects.get(pk=installment_id)
            amount = inst.remaining
            if amount <= 0:
                continue
            enrolment = AutopayEnrolment.objects.get(loan_id=loan_id, active=True)
            try:
                with transaction.atomic():
                    transfer = RailTransfer.objects.create(
                        loan_id=loan_id,
                        installment_id=installment_id,
                        enrolment=enrolment,
                        business_date=on,
                        amount=amount,
                        rail=rail.name,
                    )
            except IntegrityError:
                transfer = RailTransfer.objects.get(installment_id=installment_id)
        if transfer.payment_id is not None or transfer.status != RailTransfer.Status.PENDING:
            continue
        account = crypto.decrypt(transfer.enrolment.account_encrypted)
        if not transfer.rail_reference:
            result = rail.debit(
                account_number=account,
                routing_number=transfer.enrolment.routing_number,
                amount=transfer.amount,
                on=on,
                reference=_reference(transfer),
            )
            RailTransfer.objects.filter(pk=transfer.pk).update(
                rail_reference=result.reference, settle_on=result.settle_on
            )
        payment = Payment.objects.filter(loan_id=loan_id, reference=_reference(transfer)).first()
        if payment is None:
            try:
                payment = payment_post(
                    loan=Loan(pk=loan_id),
                    amount=transfer.amount,
                    effective_date=on,
                    method=Payment.Method.ACH,
                    reference=_reference(transfer),
                    acting_user=None,
                )
            except LoanStateConflict as error:
                RailTransfer.objects.filter(pk=transfer.pk).update(
                    status=RailTransfer.Status.FAILED, error=error.message
                )
                continue
            posted += 1
        RailTransfer.objects.filter(pk=transfer.pk).update(payment=payment)
    return posted
