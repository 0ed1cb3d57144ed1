"""Reversing and replaying: unapply, apply in date order, replay, late fees and fee reversal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from django.db.models import Q, Sum

from lendcore.core.state import transition
from lendcore.finance.money import ZERO
from servicing import calculations
from servicing.accrual import (
    accrual_reversal_specs,
    accrue_loans,
)
from servicing.errors import LoanStateConflict
from servicing.ledger import (
    EntrySpec,
    cr,
    dr,
    journal_post_many,
    reversal_specs,
)
from servicing.models import (
    Account,
    CreditApplication,
    EntryType,
    Fee,
    Installment,
    InterestAccrual,
    JournalEntry,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
    ScheduleVersion,
)

from .book import LoanBook, apply_payment
from .schedule import _record


def _unapply(book: LoanBook, application: PaymentApplication | CreditApplication) -> None:
    """Undo an application's effect on installments, fees and schedule (ledger separately)."""
    fees = {f.pk: f for f in book.fees}
    schedule_change = None
    for item in reversed(application.detail):
        if "schedule_from" in item:
            schedule_change = item
            continue
        if "fee_id" in item:
            fee = fees[item["fee_id"]]
            fee.paid_amount -= Decimal(item["amount"])
            book.dirty_fees.add(fee.pk)
    if schedule_change is not None:
        # The new version goes (with everything applied to it since, already undone).
        book.save_installments()
        ScheduleVersion.objects.filter(pk=schedule_change["schedule_to"]).update(is_current=False)
        ScheduleVersion.objects.filter(pk=schedule_change["schedule_from"]).update(is_current=True)
        book.reload_installments()
        book.loan.maturity_date = book.installments[-1].due_date
        book.loan.save(update_fields=["maturity_date", "updated_at"])
    installments = {i.pk: i for i in book.installments}
    for item in reversed(application.detail):
        if "installment" not in item or item["installment"] not in installments:
            continue
        inst = installments[item["installment"]]
        if "principal_due" in item:  # a true-up
            change = Decimal(item["principal_due"])
            inst.principal_due -= change
            inst.principal_true_up -= change
        else:
            inst.interest_paid -= Decimal(item.get("interest", "0"))
            inst.principal_paid -= Decimal(item.get("principal", "0"))
            inst.fee_paid -= Decimal(item.get("fee", "0"))
            inst.cancelled -= Decimal(item.get("cancelled", "0"))
        book.dirty_installments.add(inst.pk)


def apply_in_order(book: LoanBook, payment: Payment) -> PaymentApplication:
    """One step of the loan's history on an active loan: accrue through the payment's date,
    apply it, and close the loan when it is paid off. `replay` runs this for every payment
    it re-applies; a payment with nothing after it (the fast path of `payment_post`) runs
    it alone, which is what `replay` would do for it."""
    loan = book.loan
    accrue_loans(
        [loan],
        through=payment.effective_date,
        business_date=book.business_date,
        acting_user=book.acting_user,
    )
    application = apply_payment(book, payment)
    if book.outstanding == 0 and loan.status == Loan.Status.ACTIVE:
        transition(
            loan,
            to=Loan.Status.PAID_OFF,
            error=LoanStateConflict,
            acting_user=book.acting_user,
            business_date=book.business_date,
            reason=f"Paid off by payment {payment.pk}",
        )
    return application


def credit_shortfall_specs(book: LoanBook, specs: list[EntrySpec], memo: str) -> list[EntrySpec]:
    """A returned payment must always be recordable: where reversing it would take the
    borrower's credit below zero (its excess was refunded since), the refunded part becomes
    an amount the borrower owes: a `refund` fee (Dr fees receivable, Cr credit)."""
    net = sum(
        (
            line.credit - line.debit
            for spec in specs
            for line in spec.lines
            if line.account == Account.CREDIT
        ),
        ZERO,
    )
    shortfall = -(book.loan.credit_balance + net)
    if shortfall <= 0:
        return []
    spec = EntrySpec(
        entry_type=EntryType.FEE,
        effective_date=book.business_date,
        lines=[dr(Account.FEES, shortfall), cr(Account.CREDIT, shortfall)],
        loan_id=book.loan.pk,
        reference=book.loan.loan_number,
        memo=f"Refunded credit owed back: {memo}"[:255],
    )
    book.pending_refund_fee = (spec, shortfall, memo)
    return [spec]


def record_refund_fee(book: LoanBook) -> None:
    pending = getattr(book, "pending_refund_fee", None)
    if pending is None:
        return
    spec, amount, memo = pending
    book.pending_refund_fee = None
    fee = Fee.objects.create(
        loan=book.loan,
        kind=Fee.Kind.REFUND,
        amount=amount,
        assessed_on=book.business_date,
        reason=f"A refunded credit balance came back: {memo}"[:255],
        entry=spec.created,
        created_by=book.acting_user if getattr(book.acting_user, "pk", None) else None,
    )
    book.fees.append(fee)
    LoanEvent.objects.create(
        loan=book.loan,
        kind=LoanEvent.Kind.FEE,
        reason=fee.reason,
        data={"fee": fee.pk, "kind": fee.kind, "amount": str(amount)},
        business_date=book.business_date,
        actor=book.acting_user if getattr(book.acting_user, "pk", None) else None,
    )


def replay(
    book: LoanBook,
    *,
    from_date: date,
    from_payment_id: int,
    accrue_through: date,
    memo: str,
) -> list[Payment]:
    """Reverse the loan's history from (from_date, from_payment_id) and apply it again.

    Applies, in (effective date, id) order, every posted payment at or after the point
    (a new payment included, a just-reversed one excluded), accruing interest up to each
    payment's date, then through `accrue_through`; before each payment, the late fees
    charged before its date (and since the point) are checked again (`late_fees_recheck`).
    Returns the payments re-applied.
    """
    loan = book.loan
    live = list(
        PaymentApplication.objects.filter(loan_id=loan.pk, reversed=False)
        .filter(
            Q(effective_date__gt=from_date)
            | Q(effective_date=from_date, payment_id__gte=from_payment_id)
        )
        .select_related("entry")
        .order_by("-effective_date", "-payment_id")
    )
    credits = list(
        CreditApplication.objects.filter(
            loan_id=loan.pk, reversed=False, effective_date__gte=from_date
        ).select_related("entry")
    )
    accruals = list(
        InterestAccrual.objects.filter(loan_id=loan.pk, reversed=False, date__gt=from_date)
        .select_related("entry")
        .order_by("date")
    )
    reversed_entries: list[JournalEntry] = [a.entry for a in live] + [c.entry for c in credits]
    # The loan's own accrual entries (posted with a payment) are mirrored whole; its share
    # of close of business's shared ones is reversed from the accrual rows.
    shared = [a for a in accruals if a.entry is not None and a.entry.loan_id is None]
    reversed_entries += [a.entry for a in accruals if a.entry is not None and a.entry.loan_id]
    if live or accruals or credits:
        for application in [*credits, *live]:
            _unapply(book, cast(PaymentApplication | CreditApplication, application))
        specs = reversal_specs(reversed_entries, memo=memo)
        specs += accrual_reversal_specs(shared, memo=memo)
        specs += credit_shortfall_specs(book, specs, memo)
        journal_post_many(
            entries=specs,
            business_date=book.business_date,
            acting_user=book.acting_user,
            loans=[loan],
        )
        record_refund_fee(book)
        PaymentApplication.objects.filter(pk__in=[a.pk for a in live]).update(reversed=True)
        CreditApplication.objects.filter(pk__in=[c.pk for c in credits]).update(reversed=True)
        if accruals:
            InterestAccrual.objects.filter(pk__in=[a.pk for a in accruals]).update(reversed=True)
            last = (
                InterestAccrual.objects.filter(loan_id=loan.pk, reversed=False)
                .order_by("-date")
                .first()
            )
            if last is None:
                loan.accrued_interest_exact = Decimal("0.000000")
                loan.accrued_interest_posted = ZERO
                loan.last_accrual_date = loan.disbursed_on
            else:
                loan.accrued_interest_exact = last.cumulative_exact
                loan.accrued_interest_posted = last.cumulative_posted
                loan.last_accrual_date = last.date
        if loan.status == Loan.Status.PAID_OFF and book.outstanding > 0:
            transition(
                loan,
                to=Loan.Status.ACTIVE,
                error=LoanStateConflict,
                acting_user=book.acting_user,
                business_date=book.business_date,
                reason=memo,
            )
    payments = list(
        Payment.objects.filter(loan_id=loan.pk, status=Payment.Status.POSTED, is_recovery=False)
        .filter(
            Q(effective_date__gt=from_date) | Q(effective_date=from_date, id__gte=from_payment_id)
        )
        .exclude(applications__reversed=False)
        .order_by("effective_date", "id")
    )
    recheck = [
        f
        for f in book.fees
        if f.kind == Fee.Kind.LATE and f.reversed_on is None and f.assessed_on >= from_date
    ]
    for payment in payments:
        recheck = late_fees_recheck(book, recheck, before=payment.effective_date, memo=memo)
        if loan.status != Loan.Status.ACTIVE:
            # Paid off by an earlier payment in the replay: the rest is the borrower's credit.
            _apply_to_credit(book, payment)
            continue
        apply_in_order(book, payment)
    late_fees_recheck(book, recheck, before=None, memo=memo)
    if loan.status == Loan.Status.ACTIVE:
        accrue_loans(
            [loan],
            through=accrue_through,
            business_date=book.business_date,
            acting_user=book.acting_user,
        )
    return payments


def late_fees_recheck(
    book: LoanBook, fees: list[Fee], *, before: date | None, memo: str
) -> list[Fee]:
    """Check again, in a replay, the late fees charged on days before `before` (all, when
    None), each against the loan as the replay left it at the close of its day
    (`calculations.late_fee_due`); reverse those whose condition no longer holds. Returns
    the fees not checked yet."""
    due_now = [f for f in fees if before is None or f.assessed_on < before]
    later = [f for f in fees if f not in due_now]
    if not due_now:
        return later
    book.load_all_installments()
    by_due_date = {i.due_date: i for i in book.installments}
    installments = {i.pk: i for i in book.installments}
    for fee in sorted(due_now, key=lambda f: (f.assessed_on, f.pk)):
        inst = installments.get(fee.installment_id) if fee.installment_id is not None else None
        if inst is None and fee.installment_id is not None:
            # charged under an earlier schedule version: the same due date
            old = Installment.objects.filter(pk=fee.installment_id).values("due_date").first()
            inst = by_due_date.get(old["due_date"]) if old else None
        if inst is None or late_fee_still_due(book, inst, on=fee.assessed_on):
            continue
        fee_reverse(book, fee, reason=f"Condition no longer holds after replay: {memo}")
    return later


def late_fee_still_due(book: LoanBook, inst: Installment, *, on: date) -> bool:
    """`calculations.late_fee_due` for the installment at the close of `on`, with the book
    as it stands (the replay has applied every payment dated on or before `on`)."""
    through = [i for i in book.installments if i.number <= inst.number]
    unpaid = [i for i in through if i.remaining > 0]
    since = book.loan.disbursed_on
    if unpaid:
        before = [i for i in book.installments if i.number < unpaid[0].number]
        since = before[-1].due_date if before else since
    late_paid = (
        PaymentApplication.objects.filter(
            loan_id=book.loan.pk, reversed=False, effective_date__gt=since, effective_date__lte=on
        ).aggregate(t=Sum("late_fees"))["t"]
        or ZERO
    )
    return calculations.late_fee_due(
        on=on,
        due_date=inst.due_date,
        grace_days=book.loan.late_fee_grace_days,
        remaining=inst.remaining,
        shortfall=sum((i.remaining for i in unpaid), ZERO),
        late_fees_paid=late_paid,
    )


def fee_reverse(book: LoanBook, fee: Fee, *, reason: str) -> None:
    """Reverse what is still owed of a fee (Dr fee income, Cr fees receivable)."""
    amount = fee.outstanding
    if amount > 0:
        spec = EntrySpec(
            entry_type=EntryType.FEE_REVERSAL,
            effective_date=fee.assessed_on,
            lines=[dr(Account.FEE_INCOME, amount), cr(Account.FEES, amount)],
            loan_id=book.loan.pk,
            reference=book.loan.loan_number,
            memo=f"Reverses fee {fee.pk} ({fee.kind}): {reason}"[:255],
            reverses_id=None,
        )
        journal_post_many(
            entries=[spec],
            business_date=book.business_date,
            acting_user=book.acting_user,
            loans=[book.loan],
        )
    fee.reversed_amount += amount
    fee.reversed_on = book.business_date
    book.dirty_fees.add(fee.pk)
    LoanEvent.objects.create(
        loan=book.loan,
        kind=LoanEvent.Kind.FEE_REVERSED,
        reason=reason[:500],
        data={"fee": fee.pk, "amount": str(amount)},
        business_date=book.business_date,
        actor=book.acting_user if getattr(book.acting_user, "pk", None) else None,
    )


def _apply_to_credit(book: LoanBook, payment: Payment) -> PaymentApplication:
    spec = EntrySpec(
        entry_type=EntryType.PAYMENT,
        effective_date=payment.effective_date,
        lines=[dr(Account.CASH, payment.amount), cr(Account.CREDIT, payment.amount)],
        loan_id=book.loan.pk,
        reference=payment.reference,
        memo=f"Payment {payment.pk} after payoff: credit balance",
    )
    journal_post_many(
        entries=[spec],
        business_date=book.business_date,
        acting_user=book.acting_user,
        loans=[book.loan],
    )
    amounts = {"excess": payment.amount, "credit": payment.amount}
    return _record(payment, spec, amounts, [])
