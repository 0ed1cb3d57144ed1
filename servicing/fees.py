"""Fees: assessment (late by policy, NSF, manual) and waivers. Public via servicing.services.

The late-fee rule itself (when, how much) is `servicing.calculations`; `late_fees_charge` is
the one Python path that charges it (close of business's portable step, the demo, tests).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from lendcore.core.sqlrows import update_many
from lendcore.finance.money import ZERO
from lendcore.webhooks.outbox import events_emit_many

from . import calculations
from .engine import LoanBook
from .errors import ErrorCode, LoanStateConflict, ServicingValidationError
from .ledger import cr, dr, journal_post
from .lock_objects import loan_lock
from .models import (
    UNPAID,
    Account,
    EntryType,
    Fee,
    FeeWaiver,
    Installment,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
)
from .selectors import business_date_get
from .validation import actor as _actor
from .validation import money_validate
from .webhook_events import loan_event


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
    loan_event("fee.assessed", loan, fee_id=fee.pk, kind=kind, amount=amount, assessed_on=on)
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
    if loan.status != Loan.Status.ACTIVE:
        # Charged off: what it owed was written off with it (a paid-off loan owes nothing).
        raise LoanStateConflict(
            f"This loan is {loan.get_status_display().lower()}; its fees cannot be waived.",
            code=ErrorCode.LOAN_CLOSED,
        )
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
    # A refunded credit owed back was never income: writing it off is a loss.
    written_to = Account.CHARGE_OFF if fee.kind == Fee.Kind.REFUND else Account.FEE_INCOME
    entry = journal_post(
        entry_type=EntryType.FEE_WAIVER,
        effective_date=bd,
        business_date=bd,
        loan=loan,
        reference=loan.loan_number,
        memo=f"Waiver of fee {fee.pk}: {reason}"[:255],
        lines=[dr(written_to, amount), cr(Account.FEES, amount)],
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


def late_fees_assess(*, loan_ids: list[int], business_date: date) -> list[Fee]:
    """The late fees these loans owe at the close of `business_date`, charged through close
    of business's own step (`late_fees_charge`): one rule, one path. For the demo and for
    tests; close of business charges every loan's each night."""
    installments = Installment.objects.filter(loan_id__in=loan_ids)
    ids = late_fees_charge(
        installments=installments, day=business_date, business_date=business_date
    )
    return list(Fee.objects.filter(pk__in=ids).order_by("pk"))


def late_fees_charge(*, installments, day: date, business_date: date) -> list[int]:
    """Charge the late fee of every installment among `installments` (a queryset) that draws
    one at the close of `day` (`calculations.late_fee_due`: past its grace days, unpaid,
    not only because an earlier late fee took part of a full payment), once per installment
    due date (a modification copies past installments into a new schedule version: the fee
    charged under the old one stands). Bulk writes, a constant number of queries: entries,
    lines, fees, events and the loans' fee balances. The portable path of close of
    business's late-fee step, which its PostgreSQL statement is pinned to. The loans must be
    locked by the caller. Returns the fees' ids."""

    rows = list(
        installments.filter(
            schedule__is_current=True,
            due_date__lt=day,
            loan__status=Loan.Status.ACTIVE,
            loan__late_fee_amount__gt=0,
        )
        .filter(UNPAID)
        .select_related("loan")
        .order_by("loan_id", "number")
    )
    rows = [i for i in rows if i.remaining > 0]
    if not rows:
        return []
    loan_ids = sorted({i.loan_id for i in rows})
    charged = set(
        Fee.objects.filter(
            loan_id__in=loan_ids, kind=Fee.Kind.LATE, reversed_on__isnull=True
        ).values_list("loan_id", "installment__due_date")
    )
    schedule: dict[int, list[Installment]] = {}
    for inst in Installment.objects.filter(
        loan_id__in=loan_ids, schedule__is_current=True
    ).order_by("loan_id", "number"):
        schedule.setdefault(inst.loan_id, []).append(inst)
    late_paid: dict[int, list[tuple[date, Decimal]]] = {}
    for loan_id, on, amount in (
        PaymentApplication.objects.filter(loan_id__in=loan_ids, reversed=False, late_fees__gt=0)
        .values("loan_id", "effective_date")
        .annotate(t=Sum("late_fees"))
        .values_list("loan_id", "effective_date", "t")
    ):
        late_paid.setdefault(loan_id, []).append((on, amount))
    todo: list[tuple[Installment, Decimal]] = []
    for inst in rows:
        loan = inst.loan
        if (inst.loan_id, inst.due_date) in charged:
            continue
        rows_through = [i for i in schedule.get(inst.loan_id, []) if i.number <= inst.number]
        unpaid = [i for i in rows_through if i.remaining > 0]
        since = loan.disbursed_on
        if unpaid:
            before = [i for i in schedule[inst.loan_id] if i.number < unpaid[0].number]
            since = before[-1].due_date if before else since
        paid_to_late_fees = sum(
            (t for on, t in late_paid.get(inst.loan_id, []) if since < on <= day), ZERO
        )
        if not calculations.late_fee_due(
            on=day,
            due_date=inst.due_date,
            grace_days=loan.late_fee_grace_days,
            remaining=inst.remaining,
            shortfall=sum((i.remaining for i in unpaid), ZERO),
            late_fees_paid=paid_to_late_fees,
        ):
            continue
        amount = calculations.late_fee_amount(
            kind=loan.late_fee_kind,
            amount=loan.late_fee_amount,
            cap=loan.late_fee_cap,
            installment_total_due=inst.principal_due + inst.interest_due + inst.fee_due,
        )
        if amount > 0:
            todo.append((inst, amount))
            charged.add((inst.loan_id, inst.due_date))
    if not todo:
        return []
    reasons = [f"Installment {inst.number} due {inst.due_date} unpaid" for inst, _ in todo]
    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                business_date=business_date,
                effective_date=day,
                entry_type=EntryType.FEE,
                loan_id=inst.loan_id,
                reference=inst.loan.loan_number,
                memo=f"late fee: {reason}"[:255],
            )
            for (inst, _), reason in zip(todo, reasons, strict=True)
        ]
    )
    lines = []
    for (inst, amount), entry in zip(todo, entries, strict=True):
        lines.append(
            JournalLine(entry_id=entry.pk, loan_id=inst.loan_id, account=Account.FEES, debit=amount)
        )
        lines.append(
            JournalLine(
                entry_id=entry.pk, loan_id=inst.loan_id, account=Account.FEE_INCOME, credit=amount
            )
        )
    JournalLine.objects.bulk_create(lines)
    fees = Fee.objects.bulk_create(
        [
            Fee(
                loan_id=inst.loan_id,
                kind=Fee.Kind.LATE,
                amount=amount,
                assessed_on=day,
                installment_id=inst.pk,
                reason=reason[:255],
                entry_id=entry.pk,
            )
            for (inst, amount), reason, entry in zip(todo, reasons, entries, strict=True)
        ]
    )
    LoanEvent.objects.bulk_create(
        [
            LoanEvent(
                loan_id=fee.loan_id,
                kind=LoanEvent.Kind.FEE,
                reason=fee.reason,
                data={"fee": fee.pk, "kind": Fee.Kind.LATE, "amount": str(fee.amount)},
                business_date=business_date,
            )
            for fee in fees
        ]
    )
    # The loans are locked by the caller: their fee balances, as read, plus the fees.
    loans = {inst.loan_id: inst.loan for inst, _ in todo}
    events_emit_many(  # the webhooks' fee.assessed, as COB's statement writes them
        (
            "fee.assessed",
            fee.loan_id,
            {
                "loan_id": fee.loan_id,
                "loan_number": loans[fee.loan_id].loan_number,
                "fee_id": fee.pk,
                "kind": Fee.Kind.LATE,
                "amount": str(fee.amount),
                "assessed_on": day,
            },
        )
        for fee in fees
    )
    for inst, amount in todo:
        loans[inst.loan_id].fees_balance += amount
    update_many(list(loans.values()), ["fees_balance"])
    return [fee.pk for fee in fees]
