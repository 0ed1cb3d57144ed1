"""Step 1 of COB: autopay. Installments due today on enrolled loans are debited through the
payment rail and posted through `payment_post`; debits whose settle date has come are
settled, or reversed through `payment_reverse` with the NSF fee when the rail returns them.

Runs per partition before the partition's transaction (payment_post and payment_reverse
are durable transactions of their own). Exactly once per installment: a RailTransfer row is
unique per installment and written before the rail is called; a retry links the payment it
finds by reference instead of posting again. Enrolling and cancelling: `servicing.autopay`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from django.db import transaction

from lendcore.core import crypto
from lendcore.core.sqlrows import update_many
from lendcore.finance.money import ZERO
from lendcore.webhooks.outbox import events_emit_many
from servicing import calculations
from servicing.accrual import accrue_loans, loan_periods
from servicing.engine import INSTALLMENT_FIELDS, _set_allocation
from servicing.errors import LoanStateConflict
from servicing.ledger import BALANCE_FIELDS, EntrySpec, cr, dr, journal_post_many
from servicing.loan_access import loan_ref
from servicing.lock_objects import loans_lock
from servicing.models import (
    UNPAID,
    Account,
    AutopayEnrolment,
    EntryType,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
    RailTransfer,
)
from servicing.payoff import payoff_amount_on
from servicing.selectors import business_date_get
from servicing.services import payment_post, payment_reverse

from .rails import payment_rail

ONE_DAY = timedelta(days=1)
PAID = InstallmentStatus.PAID


def _reference(transfer: RailTransfer) -> str:
    return f"AUTOPAY-{transfer.pk}"


def autopay_settle(*, lo: int, hi: int, on: date) -> dict[str, int]:
    """Settle or return the pending debits of loans [lo, hi] whose settle date has come.

    The settled ones (nearly all) are marked in one UPDATE, whatever their number; a
    returned one reverses its payment through `payment_reverse` (with the NSF fee), then is
    marked, one at a time (a reversal is its own transaction)."""
    rail = payment_rail()
    counts = {"settled": 0, "returned": 0}
    pending = (
        RailTransfer.objects.filter(
            loan_id__gte=lo,
            loan_id__lte=hi,
            kind=RailTransfer.Kind.AUTOPAY,  # one-time payments: servicing.rail_payments
            status=RailTransfer.Status.PENDING,
            settle_on__lte=on,
        )
        .select_related("enrolment", "payment")
        .order_by("pk")
    )
    settled = []
    for transfer in pending:
        enrolment, settle_on = transfer.enrolment, transfer.settle_on
        # an autopay debit sent: its enrolment and settle date are set
        assert enrolment is not None
        assert settle_on is not None
        result = rail.settlement(
            reference=transfer.rail_reference,
            account_number=crypto.decrypt(enrolment.account_encrypted),
            settle_on=settle_on,
            on=on,
        )
        if result.status == "settled":
            settled.append(transfer.pk)
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
    if settled:
        RailTransfer.objects.filter(pk__in=settled, status=RailTransfer.Status.PENDING).update(
            status=RailTransfer.Status.SETTLED
        )
        counts["settled"] = len(settled)
    return counts


def autopay_collect(*, lo: int, hi: int, on: date) -> int:
    """Debit every installment due `on` of enrolled active loans [lo, hi]; post payments.

    The partition's regular debits (an installment paid in full on a current loan) post in
    one transaction with bulk writes (`_post_regular`); any other goes through
    `payment_post`, one by one. Returns the payments posted."""
    pending = _transfers_debited(lo=lo, hi=hi, on=on)
    if not pending:
        return 0
    posted, others = _post_regular(pending, on)
    for transfer in others:
        posted += _post_one(transfer, on)
    return posted


def _transfers_debited(*, lo: int, hi: int, on: date) -> list[RailTransfer]:
    """The range's transfers for installments due `on`, each written once (unique per
    installment) before the rail is called, debited once; returns those not posted yet.

    A constant number of statements for the range, whatever its number of debits (the
    enrolments read once, the amounts owed by `_amounts_due`)."""
    rail = payment_rail()
    # From the few enrolled loans to their installment due on the day (an index lookup
    # each), not from the range's installments.
    enrolments = {
        e.loan_id: e
        for e in AutopayEnrolment.objects.filter(loan_id__gte=lo, loan_id__lte=hi, active=True)
    }
    if not enrolments:
        return []
    due = list(
        Installment.objects.filter(
            loan_id__in=list(enrolments),
            schedule__is_current=True,
            due_date=on,
            loan__status=Loan.Status.ACTIVE,
        )
        .filter(UNPAID)
        .order_by("loan_id", "pk")
    )
    if not due:
        return []
    ids = [inst.pk for inst in due]
    have = set(
        RailTransfer.objects.filter(installment_id__in=ids).values_list("installment_id", flat=True)
    )
    missing = [inst for inst in due if inst.pk not in have and inst.remaining > 0]
    if missing:
        owed = _amounts_due({inst.loan_id: inst for inst in missing}, on)
        RailTransfer.objects.bulk_create(
            [
                RailTransfer(
                    loan_id=inst.loan_id,
                    kind=RailTransfer.Kind.AUTOPAY,
                    installment_id=inst.pk,
                    enrolment=enrolments[inst.loan_id],
                    business_date=on,
                    amount=owed[inst.loan_id],
                    rail=rail.name,
                )
                for inst in missing
            ],
            ignore_conflicts=True,  # a retry racing another: the unique row wins once
        )
    transfers = list(
        RailTransfer.objects.filter(
            installment_id__in=ids, status=RailTransfer.Status.PENDING, payment__isnull=True
        )
        .select_related("enrolment")
        .order_by("loan_id", "pk")
    )
    debited = []
    for transfer in transfers:
        if transfer.rail_reference:
            continue
        enrolment = transfer.enrolment
        assert enrolment is not None  # an autopay debit has its enrolment
        result = rail.debit(
            account_number=crypto.decrypt(enrolment.account_encrypted),
            routing_number=enrolment.routing_number,
            amount=transfer.amount,
            on=on,
            reference=_reference(transfer),
        )
        transfer.rail_reference = result.reference
        transfer.settle_on = result.settle_on
        debited.append(transfer)
    update_many(debited, ["rail_reference", "settle_on"])
    # A retry after a crash between posting and linking: link the payment it finds.
    found = dict(
        Payment.objects.filter(
            loan_id__in={t.loan_id for t in transfers},
            reference__in=[_reference(t) for t in transfers],
        ).values_list("reference", "pk")
    )
    linked = []
    for transfer in transfers:
        if _reference(transfer) in found:
            transfer.payment_id = found[_reference(transfer)]
            linked.append(transfer)
    update_many(linked, ["payment"])
    return [t for t in transfers if t.payment_id is None]


def _amounts_due(due: dict[int, Installment], on: date) -> dict[int, Decimal]:
    """What each loan owes on `on` for its installment due that day: the installment, any
    installment past due and the fees (so that an earlier fee never pushes an autopay loan
    into delinquency), never more than the payoff. Three queries for all the loans (the
    `scheduled` loans' periods read together, not one loan at a time by the payoff)."""
    past_due: dict[int, Decimal] = {}
    for inst in Installment.objects.filter(
        loan_id__in=list(due), schedule__is_current=True, due_date__lt=on
    ).filter(UNPAID):
        past_due[inst.loan_id] = past_due.get(inst.loan_id, ZERO) + max(inst.remaining, ZERO)
    loans = list(Loan.objects.filter(pk__in=list(due)))
    periods = loan_periods(loans)
    amounts = {}
    for loan in loans:
        wanted = due[loan.pk].remaining + past_due.get(loan.pk, ZERO) + loan.fees_balance
        payoff = payoff_amount_on(loan, on, periods=periods.get(loan.pk, []))
        amounts[loan.pk] = min(wanted, payoff)
    return amounts


def _post_one(transfer: RailTransfer, on: date) -> int:
    try:
        payment = payment_post(
            loan=loan_ref(transfer.loan_id),
            amount=transfer.amount,
            effective_date=on,
            method=Payment.Method.ACH,
            reference=_reference(transfer),
            acting_user=None,
            allow_credit=True,  # the rail collected it: it is the borrower's money either way
        )
    except LoanStateConflict as error:
        RailTransfer.objects.filter(pk=transfer.pk).update(
            status=RailTransfer.Status.FAILED, error=error.message
        )
        return 0
    RailTransfer.objects.filter(pk=transfer.pk).update(payment=payment)
    return 1


def _post_regular(transfers: list[RailTransfer], on: date) -> tuple[int, list[RailTransfer]]:
    """Post, in one transaction with bulk writes, the debits that pay an installment due
    `on` in full on a current loan (nothing past due, no fees, no credit, not the payoff, the
    final installment not in play): what `payment_post` would write for each, through the
    same rules (`servicing.calculations`: the waterfall, the installment's fill, the
    principal true-up) and the engine's accrual and journal, without its per-payment round
    trips. Returns (posted, the transfers left for `payment_post`)."""

    with transaction.atomic():
        bd = business_date_get()
        by_loan = {t.loan_id: t for t in transfers}
        loans = {loan.pk: loan for loan in loans_lock(loan_ids=list(by_loan))}
        # Each loan's current schedule, read once: the debited installment, the last two
        # (the final one takes a principal true-up, and a debit of one of them is
        # payment_post's: the final installment's interest true-up) and the next one due.
        schedules: dict[int, list[Installment]] = {}
        for inst in Installment.objects.filter(
            loan_id__in=list(by_loan), schedule__is_current=True
        ).order_by("loan_id", "number"):
            schedules.setdefault(inst.loan_id, []).append(inst)
        wanted = {t.installment_id for t in transfers}
        installments = {
            inst.pk: inst for rows in schedules.values() for inst in rows if inst.pk in wanted
        }
        last_two = {loan_id: rows[:-3:-1] for loan_id, rows in schedules.items()}

        def regular(transfer: RailTransfer) -> bool:
            loan = loans.get(transfer.loan_id)
            inst = installments.get(cast(int, transfer.installment_id))
            ends = last_two.get(transfer.loan_id, [])
            return (
                bd == on
                and loan is not None
                and inst is not None
                and loan.status == Loan.Status.ACTIVE
                and not loan.non_accrual
                and (loan.last_closed_on is None or loan.last_closed_on >= on - ONE_DAY)
                and loan.fees_balance == 0
                and loan.credit_balance == 0
                and loan.oldest_unpaid_due_date == on
                and inst.due_date == on
                and inst.principal_paid == inst.interest_paid == inst.fee_paid == 0
                and inst.cancelled == 0
                and inst.remaining == transfer.amount
                and len(ends) == 2
                and inst.pk not in {e.pk for e in ends}
            )

        chosen = [t for t in transfers if regular(t)]
        others = [t for t in transfers if not regular(t)]
        if not chosen:
            return 0, others
        accrue_loans([loans[t.loan_id] for t in chosen], through=on, business_date=bd)
        unpaid_later = {
            loan_id: [i.due_date for i in rows if i.due_date > on and i.status != PAID]
            for loan_id, rows in schedules.items()
        }
        # the first unpaid installment after `on` (as read, before these payments)
        next_due = {loan_id: min(days, default=None) for loan_id, days in unpaid_later.items()}
        posted, payments, allocations, finals = [], [], [], []
        for transfer in chosen:
            loan = loans[transfer.loan_id]
            inst = installments[cast(int, transfer.installment_id)]
            final = last_two[loan.pk][0]
            amount = transfer.amount
            split = calculations.waterfall(
                amount,
                order=loan.allocation_order,
                fees=(),
                interest=loan.interest_balance,
                principal=loan.principal_balance,
            )
            # The payoff (and its credit balance) is payment_post's: here only what leaves a
            # balance owing, and a true-up the final installment can take.
            delta = inst.principal_due - split.principal
            payoff = split.rest > 0 or split.principal == loan.principal_balance
            if payoff or final.principal_due + delta < final.principal_paid:
                others.append(transfer)
                continue
            di, dp, df = calculations.fill_installment(
                amount,
                interest_left=inst.interest_due,
                principal_left=inst.principal_due,
                fee_left=inst.fee_due,
            )
            inst.interest_paid, inst.principal_paid, inst.fee_paid = di, dp, df
            inst.status = inst.status_on(bd, grace_days=loan.late_fee_grace_days)
            inst.paid_on = on
            detail = [
                {"installment": inst.pk, "interest": str(di), "principal": str(dp), "fee": str(df)}
            ]
            if delta:
                final.principal_due += delta
                final.principal_true_up += delta
                finals.append(final)
                detail.append({"installment": final.pk, "principal_due": str(delta)})
            amounts = {
                "fees": ZERO,
                "interest": split.interest,
                "principal": split.principal,
                "excess": ZERO,
                "credit": ZERO,
            }
            payment = Payment(
                loan=loan,
                amount=amount,
                effective_date=on,
                method=Payment.Method.ACH,
                reference=_reference(transfer),
                is_recovery=False,
                posted_on=bd,
            )
            _set_allocation(payment, amounts)
            payments.append(payment)
            allocations.append((amounts, detail))
            posted.append(transfer)
            loan.oldest_unpaid_due_date = next_due.get(loan.pk)
        chosen = posted
        if not chosen:
            return 0, others
        Payment.objects.bulk_create(payments)
        specs = [
            EntrySpec(
                entry_type=EntryType.PAYMENT,
                effective_date=on,
                lines=[
                    dr(Account.CASH, p.amount),
                    cr(Account.INTEREST, amounts["interest"]),
                    cr(Account.PRINCIPAL, amounts["principal"]),
                ],
                loan_id=p.loan_id,
                reference=p.reference,
                memo=f"Payment {p.pk} ({p.method})",
            ).nonzero()
            for p, (amounts, _) in zip(payments, allocations, strict=True)
        ]
        touched = [loans[t.loan_id] for t in chosen]
        journal_post_many(
            entries=specs, business_date=bd, acting_user=None, loans=touched, save_loans=False
        )
        PaymentApplication.objects.bulk_create(
            [
                PaymentApplication(
                    payment=p,
                    loan_id=p.loan_id,
                    effective_date=on,
                    entry=spec.created,
                    detail=detail,
                    **amounts,
                )
                for p, spec, (amounts, detail) in zip(payments, specs, allocations, strict=True)
            ]
        )
        update_many(
            [installments[cast(int, t.installment_id)] for t in chosen] + finals, INSTALLMENT_FIELDS
        )
        update_many(touched, [*BALANCE_FIELDS, "oldest_unpaid_due_date", "updated_at"])
        LoanEvent.objects.bulk_create(
            [
                LoanEvent(
                    loan_id=p.loan_id,
                    kind=LoanEvent.Kind.PAYMENT,
                    reason=f"Payment {p.pk}",
                    data={
                        "payment": p.pk,
                        "amount": str(p.amount),
                        "effective_date": on.isoformat(),
                        "method": p.method,
                    },
                    business_date=bd,
                )
                for p in payments
            ]
        )
        events_emit_many(  # the webhooks' payment.posted, as payment_post writes it
            (
                "payment.posted",
                p.loan_id,
                {
                    "loan_id": p.loan_id,
                    "loan_number": loans[p.loan_id].loan_number,
                    "payment_id": p.pk,
                    "amount": p.amount,
                    "effective_date": on,
                    "method": p.method,
                    "reference": p.reference,
                    "is_recovery": False,
                },
            )
            for p in payments
        )
        for transfer, payment in zip(chosen, payments, strict=True):
            transfer.payment = payment
        update_many(chosen, ["payment"])
    return len(chosen), others
