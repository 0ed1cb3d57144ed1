"""The loan book (a loan's rows loaded once, changed in memory, written back in bulk) and
applying an amount to it: the waterfall, payments, recoveries, credit, prepayments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from lendcore.core.sqlrows import (
    can_combine_writes,
    insert_row,
    update_row,
    update_rows,
)
from lendcore.core.state import transition
from lendcore.finance.money import ZERO
from servicing import calculations
from servicing.accrual import (
    ACCRUAL_FIELDS,
    accrue_loans,
    loan_periods,
    projected_interest,
)
from servicing.errors import LoanStateConflict
from servicing.ledger import (
    BALANCE_FIELDS,
    EntrySpec,
    Line,
    cr,
    dr,
    journal_post_many,
    loan_suspense_balance,
)
from servicing.models import (
    Account,
    ChargeOff,
    CreditApplication,
    EntryType,
    Fee,
    Installment,
    InstallmentStatus,
    Loan,
    Payment,
    PaymentApplication,
)

from .rows import (
    FEE_FIELDS,
    FEW_ROWS,
    INSTALLMENT_FIELDS,
    PARTIAL_BATCH,
    _installments_for_payment,
    _remaining_interest,
    _write_rows,
)
from .schedule import _cancel_leftover_dues, _reamortize, _record, _set_allocation


@dataclass
class LoanBook:
    """A locked loan with its current installments and fees in memory."""

    loan: Loan
    business_date: date
    acting_user: Any = None
    installments: list[Installment] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    dirty_installments: set[int] = field(default_factory=set)
    dirty_fees: set[int] = field(default_factory=set)

    # False while only the installments a payment can touch are loaded (`load_for_payment`).
    complete: bool = True
    # Posting moves the loan's cached balances in memory only; `save` writes them with the
    # loan's other fields (one UPDATE of the locked row instead of two).
    defer_balances: bool = False
    balances_unsaved: bool = False
    # A replay's `refund` fee entry waiting for its Fee row (`_credit_shortfall_specs`).
    pending_refund_fee: tuple | None = None

    @classmethod
    def load(cls, loan: Loan, *, business_date: date, acting_user=None) -> LoanBook:
        book = cls(loan=loan, business_date=business_date, acting_user=acting_user)
        book.reload_installments()
        book.fees = list(Fee.objects.filter(loan=loan).order_by("assessed_on", "id"))
        return book

    @classmethod
    def load_for_payment(
        cls, loan: Loan, *, on: date, business_date: date, acting_user=None
    ) -> LoanBook:
        """The part of the book a payment dated `on` with nothing posted after it can touch.

        Installments, in due date order, that are unpaid or due on or after `on`, until one
        due after the business date: the payment's window (the unpaid past-due ones and the
        first due on or after `on`, paid or not), every one whose status can change by the
        business date, and the oldest unpaid one; and the last two of the schedule (the
        true-up's). What is not loaded is paid and due before `on`, or not due yet; neither
        changes status. A prepayment or a payoff needs the rest and loads it
        (`load_all_installments`), as does `refresh_statuses` when everything loaded is
        paid. Fees: loaded only when the loan owes some.
        """
        book = cls(
            loan=loan,
            business_date=business_date,
            acting_user=acting_user,
            complete=False,
            defer_balances=True,
        )
        rows, extras = _installments_for_payment(loan.pk, on, limit=PARTIAL_BATCH)
        if len(rows) == PARTIAL_BATCH and rows[-1].due_date <= business_date:
            rows, extras = _installments_for_payment(loan.pk, on)  # many unpaid: take them all
        book.installments = sorted(rows + extras, key=lambda i: i.number)
        if loan.fees_balance > 0:
            book.fees = list(Fee.objects.filter(loan=loan).order_by("assessed_on", "id"))
        return book

    def load_all_installments(self) -> None:
        """Complete a partial book (keeps the in-memory rows already loaded)."""
        if self.complete:
            return
        loaded = {i.pk: i for i in self.installments}
        rows = Installment.objects.filter(loan=self.loan, schedule__is_current=True).order_by(
            "number"
        )
        self.installments = [loaded.get(i.pk, i) for i in rows]
        self.complete = True

    def reload_installments(self) -> None:
        self.save_installments()
        self.installments = list(
            Installment.objects.filter(loan=self.loan, schedule__is_current=True).order_by("number")
        )
        self.complete = True

    # ---------------------------------------------------------------- persistence

    def save_installments(self) -> None:
        changed = [i for i in self.installments if i.pk in self.dirty_installments]
        for inst in changed:  # written mid-way too: with the status its amounts give
            self._status_settled(inst)
        _write_rows(Installment, changed, INSTALLMENT_FIELDS)
        self.dirty_installments.clear()

    def save(self) -> None:
        """Settle what the loan's state now implies, then write what changed: a credit
        balance is applied to what the loan owes (and pays it off when it covers it), the
        final installment bills the interest owed by the business date, statuses and the
        oldest unpaid due date follow."""
        if self.loan.status == Loan.Status.ACTIVE and self.loan.credit_balance > 0:
            credit_apply(self, on=self.business_date)
        self.true_up_final_interest(as_of=self.business_date)
        self.refresh_statuses()
        installments = [i for i in self.installments if i.pk in self.dirty_installments]
        fees = [f for f in self.fees if f.pk in self.dirty_fees]
        balances = BALANCE_FIELDS if self.balances_unsaved else ()
        loan_fields = (*balances, *ACCRUAL_FIELDS, "oldest_unpaid_due_date", "updated_at")
        if len(installments) + len(fees) <= FEW_ROWS and can_combine_writes():
            # a payment's few rows and the loan: one statement on PostgreSQL
            update_rows(
                [(i, INSTALLMENT_FIELDS) for i in installments]
                + [(f, FEE_FIELDS) for f in fees]
                + [(self.loan, loan_fields)]
            )
        else:
            _write_rows(Installment, installments, INSTALLMENT_FIELDS)
            _write_rows(Fee, fees, FEE_FIELDS)
            update_row(self.loan, loan_fields)
        self.dirty_installments.clear()
        self.dirty_fees.clear()
        self.balances_unsaved = False

    def _status_settled(self, inst: Installment) -> bool:
        """The installment's status as of the business date, and its paid date with it: set
        exactly when it is paid (a CHECK holds it; the unpaid index reads it). True when
        either changed."""
        on = self.business_date
        status = inst.status_on(on, grace_days=self.loan.late_fee_grace_days)
        # a paid one without a payment date of its own was completed by a true-up: today
        paid_on = (inst.paid_on or on) if status == InstallmentStatus.PAID else None
        changed = (status, paid_on) != (inst.status, inst.paid_on)
        inst.status, inst.paid_on = status, paid_on
        return changed

    def refresh_statuses(self) -> None:
        oldest = None
        for inst in self.installments:
            if self._status_settled(inst):
                self.dirty_installments.add(inst.pk)
            if inst.status != InstallmentStatus.PAID and oldest is None:
                oldest = inst.due_date
        if oldest is None and not self.complete:
            # Everything loaded is paid now: the oldest unpaid one is among the rest.
            self.load_all_installments()
            self.refresh_statuses()
            return
        if self.loan.status != Loan.Status.ACTIVE:
            oldest = None
        self.loan.oldest_unpaid_due_date = oldest

    def post(self, entries: list[EntrySpec]) -> None:
        """Post the loan's entries (the cached balances are written now, or by `save` when
        `defer_balances`)."""
        journal_post_many(
            entries=entries,
            business_date=self.business_date,
            acting_user=self.acting_user,
            loans=[self.loan],
            save_loans=not self.defer_balances,
        )
        if self.defer_balances:
            self.balances_unsaved = True

    # ---------------------------------------------------------------- queries

    @property
    def outstanding(self) -> Decimal:
        loan = self.loan
        return loan.principal_balance + loan.interest_balance + loan.fees_balance

    def open_fees(self, on: date) -> list[Fee]:
        """Fees a payment dated `on` can pay: charged before that date, or that day but not
        by the close (a late fee of day D comes after D's payments)."""
        return [
            f
            for f in self.fees
            if f.outstanding > 0
            and (f.assessed_on < on or (f.assessed_on == on and f.kind != Fee.Kind.LATE))
        ]

    def window(self, on: date) -> list[Installment]:
        """Installments past due at `on`, plus the current one (the first due on or after).

        Fixed by the date alone (not by what is paid), so that payments on one date add up
        the same whatever order they arrive in.
        """
        due = [i for i in self.installments if i.due_date < on]
        upcoming = [i for i in self.installments if i.due_date >= on]
        return due + upcoming[:1]

    # ---------------------------------------------------------------- true-up

    def true_up_final_interest(self, *, as_of: date) -> None:
        """Once every other installment has fallen due (the final one is current, or past
        due), the final installment bills the interest the loan will owe by its due date (or
        by `as_of`, past it) that no other installment bills: the accrued interest and what
        accrues through that date on today's balance (`daily_simple`), or what the rest of
        the final period recognises (`scheduled`, from its scheduled interest). What paying
        every installment as billed leaves is never outside an installment, nor more than
        the loan owes. The final installment here is the loan's last that still bills
        principal (`calculations.last_billing_installment`); any after it bill no interest."""
        loan = self.loan
        if loan.status != Loan.Status.ACTIVE or len(self.installments) == 0:
            return
        final = self.installments[-1]
        if not self.complete and final.principal_due <= final.principal_paid:
            self.load_all_installments()  # the loan's last installment may be an earlier one
        last = calculations.last_billing_installment(
            [i.principal_due - i.principal_paid for i in self.installments]
        )
        final, later = self.installments[last], self.installments[last + 1 :]
        previous_due = self.installments[last - 1].due_date if last > 0 else loan.disbursed_on
        if as_of < previous_due:
            return
        periods = None
        if loan.interest_model == Loan.InterestModel.SCHEDULED:
            self.save_installments()  # the periods are read from the rows as they now stand
            periods = loan_periods([loan]).get(loan.pk, [])
        owed = loan.interest_balance + max(
            projected_interest(loan, max(final.due_date, as_of), periods=periods), ZERO
        )
        others = sum((_remaining_interest(i) for i in self.installments[:last]), ZERO)
        self._set_interest_due(final, owed=owed, others=others)
        for inst in later:  # no principal left to bear interest after the loan's last
            self._set_interest_due(inst, owed=ZERO, others=ZERO)

    def _set_interest_due(self, inst: Installment, *, owed: Decimal, others: Decimal) -> None:
        interest_due = calculations.final_interest_due(
            interest_paid=inst.interest_paid, cancelled=inst.cancelled, owed=owed, others=others
        )
        if interest_due != inst.interest_due:
            inst.interest_true_up += interest_due - inst.interest_due
            inst.interest_due = interest_due
            self.dirty_installments.add(inst.pk)

    def true_up_principal(self, delta: Decimal, *, on: date, detail: list[dict]) -> None:
        """The installments bill the ledger's principal again after a payment split it
        differently from them (`calculations.principal_true_up`); recorded in `detail` so
        that reversing the payment reverses it."""
        if delta == 0:
            return
        final = self.installments[-1]
        if delta < 0 and final.principal_due - final.principal_paid < -delta:
            self.load_all_installments()
        rows = [(i.pk, i.principal_due, i.principal_paid) for i in self.installments]
        by_pk = {i.pk: i for i in self.installments}
        for pk, change in calculations.principal_true_up(delta, rows):
            inst = by_pk[pk]
            inst.principal_due += change
            inst.principal_true_up += change
            if inst.remaining <= 0 and inst.paid_on is None:
                inst.paid_on = on
            self.dirty_installments.add(pk)
            detail.append({"installment": pk, "principal_due": str(change)})


@dataclass
class Allocation:
    """An amount allocated to a loan on a date: the waterfall's split, what the installments
    in the window took, and what goes beyond them."""

    split: calculations.Split
    filled_principal: Decimal  # principal the window's installments recorded
    excess_principal: Decimal  # principal beyond the window: a prepayment
    window: list[Installment]
    released: Decimal  # suspended interest (non-accrual) recognised as income
    detail: list[dict]

    def credit_lines(self) -> list[Line]:
        """The credits of the entry (the debit is the source: cash, or the credit balance)."""
        lines = [
            cr(Account.FEES, self.split.fees_total),
            cr(Account.INTEREST, self.split.interest),
            cr(Account.PRINCIPAL, self.split.principal),
        ]
        if self.released > 0:
            lines += [
                dr(Account.SUSPENSE, self.released),
                cr(Account.INTEREST_INCOME, self.released),
            ]
        return lines

    @property
    def amounts(self) -> dict[str, Decimal]:
        split = self.split
        return {
            "fees": split.fees_total,
            "late_fees": split.late_fees,
            "interest": split.interest,
            "principal": split.principal - self.excess_principal,
            "excess": self.excess_principal + split.rest,
            "credit": split.rest,
        }


def _allocate(book: LoanBook, amount: Decimal, on: date) -> Allocation:
    """Allocate `amount` by the loan's waterfall (`calculations.waterfall`) and fill the
    installments of the window at `on` (past due oldest first, then the current one) with
    its regular part; marks fees and installments paid in memory. The loan must be accrued
    through `on`."""
    loan = book.loan
    detail: list[dict] = []
    open_fees = book.open_fees(on)
    split = calculations.waterfall(
        amount,
        order=loan.allocation_order,
        fees=[calculations.OpenFee(f.pk, f.outstanding, f.is_late) for f in open_fees],
        interest=loan.interest_balance,
        principal=loan.principal_balance,
    )
    fees = {f.pk: f for f in open_fees}
    for fee_id, take in split.fees:
        fees[fee_id].paid_amount += take
        book.dirty_fees.add(fee_id)
        detail.append({"fee_id": fee_id, "amount": str(take)})
    window = book.window(on)
    window_due = sum((i.remaining for i in window), ZERO)
    regular_total = min(split.interest + split.principal, window_due)
    excess_principal = max(
        min(split.principal, split.interest + split.principal - regular_total), ZERO
    )
    to_fill = regular_total
    filled_principal = ZERO
    for inst in window:
        if to_fill <= 0:
            break
        di, dp, df = calculations.fill_installment(
            min(to_fill, inst.remaining),
            interest_left=inst.interest_due - inst.interest_paid,
            principal_left=inst.principal_due - inst.principal_paid,
            fee_left=inst.fee_due - inst.fee_paid,
            cancelled=inst.cancelled,
        )
        if di or dp or df:
            inst.interest_paid += di
            inst.principal_paid += dp
            inst.fee_paid += df
            if inst.remaining <= 0:
                inst.paid_on = on
            book.dirty_installments.add(inst.pk)
            detail.append(
                {"installment": inst.pk, "interest": str(di), "principal": str(dp), "fee": str(df)}
            )
            to_fill -= di + dp + df
            filled_principal += dp
    released = ZERO
    if split.interest > 0 and loan.non_accrual:
        released = min(split.interest, loan_suspense_balance(loan.pk))
    return Allocation(split, filled_principal, excess_principal, window, released, detail)


def _settle_schedule(book: LoanBook, on: date, allocation: Allocation) -> None:
    """After the entry is posted: a prepayment shortens the term (or re-amortizes), the
    installments are trued up to the ledger's principal, and a loan that owes nothing has
    nothing left due."""
    detail = allocation.detail
    prepaid, reamortized = ZERO, False
    if allocation.excess_principal > 0:
        prepaid, reamortized = _apply_prepayment(
            book, on, allocation.excess_principal, allocation.window, detail
        )
    if not reamortized:
        delta = allocation.filled_principal + prepaid - allocation.split.principal
        book.true_up_principal(delta, on=on, detail=detail)
    if book.outstanding == 0:
        _cancel_leftover_dues(book, on, detail)


def apply_payment(book: LoanBook, payment: Payment) -> PaymentApplication:
    """Allocate a payment by the loan's waterfall and post it (loan accrued through its date).

    A payment not saved yet is inserted here, with its allocation (one write instead of an
    INSERT and an UPDATE)."""
    if payment.is_recovery:
        return _apply_recovery(book, payment)
    on = payment.effective_date
    book.true_up_final_interest(as_of=on)
    allocation = _allocate(book, payment.amount, on)
    amounts = allocation.amounts
    inserted = payment._state.adding
    if inserted:  # a new payment: its row is written once, with its allocation
        _set_allocation(payment, amounts)
        insert_row(payment)
    lines = [dr(Account.CASH, payment.amount), *allocation.credit_lines()]
    lines.append(cr(Account.CREDIT, allocation.split.rest))
    spec = EntrySpec(
        entry_type=EntryType.PAYMENT,
        effective_date=on,
        lines=lines,
        loan_id=book.loan.pk,
        reference=payment.reference,
        memo=f"Payment {payment.pk} ({payment.method})",
    ).nonzero()
    book.post([spec])
    _settle_schedule(book, on, allocation)
    return _record(payment, spec, amounts, allocation.detail, save_payment=not inserted)


def _apply_recovery(book: LoanBook, payment: Payment) -> PaymentApplication:
    """A payment on a charged-off loan: recovery income up to what was charged off and not
    yet recovered (`calculations.recovery_split`); beyond that, the borrower's credit."""
    loan = book.loan
    charged_off = (
        ChargeOff.objects.filter(loan_id=loan.pk, status=ChargeOff.Status.APPROVED)
        .order_by("-id")
        .values_list("principal", "interest", "fees")
        .first()
    )
    total = sum(charged_off, ZERO) if charged_off else ZERO
    recovered = recovered_so_far(loan.pk)
    recovery, credit = calculations.recovery_split(
        payment.amount, charged_off=total, recovered=recovered
    )
    spec = EntrySpec(
        entry_type=EntryType.RECOVERY,
        effective_date=payment.effective_date,
        lines=[
            dr(Account.CASH, payment.amount),
            cr(Account.RECOVERIES, recovery),
            cr(Account.CREDIT, credit),
        ],
        loan_id=loan.pk,
        reference=payment.reference,
        memo=f"Recovery, payment {payment.pk}",
    ).nonzero()
    journal_post_many(
        entries=[spec], business_date=book.business_date, acting_user=book.acting_user, loans=[loan]
    )
    return _record(payment, spec, {"excess": credit, "credit": credit}, [])


def recovered_so_far(loan_id: int) -> Decimal:
    """What live recoveries of the loan booked as recovery income (their credit aside)."""
    rows = PaymentApplication.objects.filter(
        loan_id=loan_id, reversed=False, payment__is_recovery=True
    ).aggregate(paid=Sum("payment__amount"), credit=Sum("credit"))
    return (rows["paid"] or ZERO) - (rows["credit"] or ZERO)


def credit_apply(book: LoanBook, *, on: date) -> CreditApplication | None:
    """Apply the borrower's credit balance to what the active loan owes and can be paid on
    `on` (a fee charged after a backdated payoff, say): Dr credit, Cr what it pays; a loan
    that then owes nothing is paid off, the rest of the credit staying refundable."""
    loan = book.loan
    owed = book.outstanding
    if loan.status != Loan.Status.ACTIVE or loan.credit_balance <= 0 or owed <= 0:
        return None
    book.load_all_installments()
    accrue_loans([loan], through=on, business_date=book.business_date, acting_user=book.acting_user)
    book.true_up_final_interest(as_of=on)
    allocation = _allocate(book, min(loan.credit_balance, book.outstanding), on)
    applied = allocation.split.fees_total + allocation.split.interest + allocation.split.principal
    if applied <= 0:
        return None
    spec = EntrySpec(
        entry_type=EntryType.CREDIT_APPLIED,
        effective_date=on,
        lines=[dr(Account.CREDIT, applied), *allocation.credit_lines()],
        loan_id=loan.pk,
        reference=loan.loan_number,
        memo="Credit balance applied to what the loan owes",
    ).nonzero()
    book.post([spec])
    _settle_schedule(book, on, allocation)
    application = CreditApplication(
        loan_id=loan.pk,
        effective_date=on,
        entry=spec.created,
        amount=applied,
        fees=allocation.split.fees_total,
        interest=allocation.split.interest,
        principal=allocation.split.principal,
        detail=allocation.detail,
    )
    insert_row(application)
    if book.outstanding == 0:
        transition(
            loan,
            to=Loan.Status.PAID_OFF,
            error=LoanStateConflict,
            acting_user=book.acting_user,
            business_date=book.business_date,
            reason="Paid off by the borrower's credit balance",
        )
    return application


def _apply_prepayment(
    book: LoanBook, on: date, amount: Decimal, window: list[Installment], detail: list[dict]
) -> tuple[Decimal, bool]:
    """(principal applied to future installments, whether the loan was re-amortized)."""
    book.load_all_installments()
    future = [i for i in book.installments if i not in window and i.remaining > 0]
    if not future:
        return ZERO, False
    loan = book.loan
    if loan.prepayment_option == Loan.PrepaymentOption.REAMORTIZE and book.outstanding > 0:
        _reamortize(book, on, future, window, detail)
        return ZERO, True
    # Reduce term: the excess pays principal of the last installments first; an installment
    # whose principal is fully prepaid will never be due, so its scheduled interest goes.
    left = amount
    for inst in reversed(future):
        if left <= 0:
            break
        take = min(left, inst.principal_due - inst.principal_paid)
        if take <= 0:
            continue
        inst.principal_paid += take
        left -= take
        cancelled = ZERO
        if inst.principal_paid == inst.principal_due:
            cancelled = inst.remaining
            inst.cancelled += cancelled
            inst.paid_on = on
        book.dirty_installments.add(inst.pk)
        detail.append(
            {
                "installment": inst.pk,
                "interest": "0.00",
                "principal": str(take),
                "cancelled": str(cancelled),
            }
        )
    return amount - left, False
