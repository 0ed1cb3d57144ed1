"""Applying payments to a locked loan, and replaying its history in date order.

Internal to servicing (services call it inside their transaction, with the loan locked).
Order of a loan's history: on each date, the day's interest first, then payments in id order,
then (at the close) that day's late fees. A replay from (date D, payment p) reverses every
live payment and credit application at or after that point and every accrual after D (new
reversing entries), then accrues and applies again in order, so interest is recomputed on
the balances the payments actually left, and late fees charged since D whose condition no
longer holds are reversed.

The money rules themselves (the waterfall, an installment's fill and status, the late-fee
test, the true-up of the final installment) are `servicing.calculations`; this module
applies them to the loan's rows and posts what they decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, Sum

from lendcore.core.sqlrows import (
    can_combine_writes,
    insert_row,
    select_columns,
    select_models_extra,
    update_row,
    update_rows,
)
from lendcore.finance.money import ZERO
from lendcore.finance.schedule import LoanTerms, build_schedule

from . import calculations
from .accrual import (
    ACCRUAL_FIELDS,
    accrual_reversal_specs,
    accrue_loans,
    loan_periods,
    projected_interest,
)
from .ledger import (
    BALANCE_FIELDS,
    EntrySpec,
    Line,
    cr,
    dr,
    journal_post_many,
    loan_suspense_balance,
    reversal_specs,
)
from .models import (
    Account,
    ChargeOff,
    CreditApplication,
    EntryType,
    Fee,
    Installment,
    InstallmentStatus,
    InterestAccrual,
    JournalEntry,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
    ScheduleVersion,
)

# Installments read per batch by `LoanBook.load_for_payment`.
PARTIAL_BATCH = 6


def _installments_for_payment(
    loan_id: int, on: date, *, limit: int | None = None
) -> tuple[list[Installment], list[Installment]]:
    """(the current schedule's installments that are unpaid or due on or after `on`, in due
    date order, at most `limit` of them; the last two of the schedule not among them, which
    the true-up of the final installment reads), in one query: it runs for every payment
    (SQL: the ORM's compilation cost more). Unpaid: more than half a cent left, exact on
    PostgreSQL's numeric and robust to SQLite's floating-point sums."""
    qn = connection.ops.quote_name
    installment, version = qn(Installment._meta.db_table), qn(ScheduleVersion._meta.db_table)
    columns = select_columns(Installment, "i")
    head = (
        f"SELECT {columns}, 0 AS extra FROM {installment} i "  # noqa: S608
        f"JOIN {version} v ON v.id = i.schedule_id "
        "WHERE i.loan_id = %s AND v.is_current = %s AND ("
        "i.principal_due + i.interest_due + i.fee_due"
        " - i.principal_paid - i.interest_paid - i.fee_paid - i.cancelled > 0.005"
        " OR i.due_date >= %s) ORDER BY i.due_date, i.number"
    )
    params: list = [loan_id, True, on]
    if limit is not None:
        head += " LIMIT %s"
        params.append(limit)
    last_two = (
        f"SELECT {columns}, 1 AS extra FROM {installment} i "  # noqa: S608
        f"JOIN {version} v ON v.id = i.schedule_id "
        "WHERE i.loan_id = %s AND v.is_current = %s ORDER BY i.number DESC LIMIT 2"
    )
    sql = f"SELECT * FROM ({head}) h UNION ALL SELECT * FROM ({last_two}) t"  # noqa: S608
    rows = select_models_extra(Installment, sql, [*params, loan_id, True])
    found = [inst for inst, (extra,) in rows if not extra]
    seen = {inst.pk for inst in found}
    extras = [inst for inst, (extra,) in rows if extra and inst.pk not in seen]
    return found, extras


INSTALLMENT_FIELDS = (
    "principal_due",
    "interest_due",
    "principal_true_up",
    "interest_true_up",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "cancelled",
    "status",
    "paid_on",
)
FEE_FIELDS = ("paid_amount", "waived_amount", "reversed_amount", "reversed_on")
# LoanBook.save: up to this many installment and fee rows are written with the loan's row
# in one statement (PostgreSQL); more take a bulk UPDATE each.
FEW_ROWS = 4


def loan_transition(
    loan: Loan, to: str, *, acting_user, business_date: date, reason: str = "", data=None
) -> None:
    """Move the loan's status if the table allows it, writing the event row."""
    from .errors import ErrorCode, LoanStateConflict

    if to not in Loan.TRANSITIONS.get(loan.status, ()):
        raise LoanStateConflict(
            f"A loan that is {loan.status} cannot become {to}.",
            code=ErrorCode.INVALID_TRANSITION,
        )
    LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.STATUS,
        from_status=loan.status,
        to_status=to,
        reason=reason,
        data=data or {},
        business_date=business_date,
        actor=acting_user if getattr(acting_user, "pk", None) else None,
    )
    loan.status = to
    loan.save(update_fields=["status", "updated_at"])


def _write_rows(model, rows: list, fields: tuple[str, ...]) -> None:
    """UPDATE the rows' fields: a plain UPDATE for one row, a bulk (CASE) UPDATE for more."""
    if len(rows) == 1:
        update_row(rows[0], fields)
    elif rows:
        model.objects.bulk_update(rows, list(fields))


def _remaining_interest(inst: Installment) -> Decimal:
    """What an unpaid installment still bills of interest."""
    return calculations.remaining_interest(
        interest_due=inst.interest_due, interest_paid=inst.interest_paid, remaining=inst.remaining
    )


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

    def refresh_statuses(self) -> None:
        on = self.business_date
        oldest = None
        for inst in self.installments:
            status = inst.status_on(on, grace_days=self.loan.late_fee_grace_days)
            if status != inst.status:
                inst.status = status
                self.dirty_installments.add(inst.pk)
            if status == InstallmentStatus.PAID and inst.paid_on is None:
                inst.paid_on = on  # completed without a payment of its own (a true-up)
                self.dirty_installments.add(inst.pk)
            if status != InstallmentStatus.PAID and inst.paid_on is not None:
                inst.paid_on = None
                self.dirty_installments.add(inst.pk)
            if status != InstallmentStatus.PAID and oldest is None:
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
        every installment as billed leaves is never outside an installment."""
        loan = self.loan
        if loan.status != Loan.Status.ACTIVE or len(self.installments) == 0:
            return
        final = self.installments[-1]
        previous_due = (
            self.installments[-2].due_date if len(self.installments) > 1 else loan.disbursed_on
        )
        if as_of < previous_due:
            return
        periods = None
        if loan.interest_model == Loan.InterestModel.SCHEDULED:
            self.save_installments()  # the periods are read from the rows as they now stand
            periods = loan_periods([loan]).get(loan.pk, [])
        owed = loan.interest_balance + max(
            projected_interest(loan, max(final.due_date, as_of), periods=periods), ZERO
        )
        others = sum((_remaining_interest(i) for i in self.installments[:-1]), ZERO)
        interest_due = calculations.final_interest_due(
            interest_paid=final.interest_paid, cancelled=final.cancelled, owed=owed, others=others
        )
        if interest_due != final.interest_due:
            final.interest_true_up += interest_due - final.interest_due
            final.interest_due = interest_due
            self.dirty_installments.add(final.pk)

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


# -------------------------------------------------------------------- applying an amount


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
        loan_transition(
            loan,
            Loan.Status.PAID_OFF,
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


def loan_terms_for(
    loan: Loan,
    *,
    principal: Decimal,
    start: date,
    first_due: date,
    n_periods: int,
    annual_rate: Decimal | None = None,
) -> LoanTerms:
    """Terms for re-scheduling the loan's remaining principal: its own amortization,
    interest method, day count and payment rounding (from the snapshot taken at boarding),
    over new dates; a re-amortization never changes what kind of loan it is."""
    snapshot = loan.terms or {}
    return LoanTerms(
        principal=principal,
        annual_rate=loan.annual_rate if annual_rate is None else annual_rate,
        n_periods=n_periods,
        frequency=loan.frequency,
        disbursement_date=start,
        first_due_date=first_due,
        amortization=loan.amortization,
        interest_method=loan.interest_method,
        day_count=loan.day_count,
        payment_rounding=Decimal(snapshot.get("payment_rounding") or "0.01"),
    )


def _reamortize(
    book: LoanBook,
    on: date,
    future: list[Installment],
    window: list[Installment],
    detail: list[dict],
) -> None:
    """A new schedule version: the remaining principal over the remaining due dates."""
    loan = book.loan
    principal_left = loan.principal_balance - sum(
        (i.principal_due - i.principal_paid for i in window), ZERO
    )
    old = book.installments[0].schedule
    if principal_left <= 0:
        return
    start = window[-1].due_date if window else loan.disbursed_on
    terms = loan_terms_for(
        loan,
        principal=principal_left,
        start=start,
        first_due=future[0].due_date,
        n_periods=len(future),
    )
    new_version = schedule_version_create(
        book,
        terms=terms,
        keep=[i for i in book.installments if i not in future],
        reason=f"Re-amortized after prepayment on {on.isoformat()}",
        effective_date=on,
    )
    detail.append({"schedule_from": old.pk, "schedule_to": new_version.pk})


def schedule_version_create(
    book: LoanBook,
    *,
    terms: LoanTerms,
    keep: list[Installment],
    reason: str,
    effective_date: date,
) -> ScheduleVersion:
    """Copy the kept installments (with what was paid) and add `terms`' schedule after them."""
    loan = book.loan
    book.save_installments()
    schedule = build_schedule(terms)
    old = ScheduleVersion.objects.filter(loan=loan, is_current=True).first()
    number = (
        ScheduleVersion.objects.filter(loan=loan)
        .order_by("-version")
        .values_list("version", flat=True)[:1]
    )
    next_version = (number[0] if number else 0) + 1
    if old is not None:
        old.is_current = False
        old.save(update_fields=["is_current"])
    version = ScheduleVersion.objects.create(
        loan=loan,
        version=next_version,
        is_current=True,
        reason=reason,
        effective_date=effective_date,
        regular_payment=schedule.payment,
        created_by=book.acting_user if getattr(book.acting_user, "pk", None) else None,
    )
    rows = [replace_installment(i, version, n) for n, i in enumerate(keep, start=1)]
    offset = len(rows)
    rows.extend(
        Installment(
            schedule=version,
            loan=loan,
            number=offset + inst.number,
            due_date=inst.due_date,
            principal_due=inst.principal,
            interest_due=inst.interest,
        )
        for inst in schedule.installments
    )
    Installment.objects.bulk_create(rows)
    book.reload_installments()
    loan.maturity_date = book.installments[-1].due_date
    loan.save(update_fields=["maturity_date", "updated_at"])
    return version


def replace_installment(inst: Installment, version: ScheduleVersion, number: int) -> Installment:
    return Installment(
        schedule=version,
        loan_id=inst.loan_id,
        number=number,
        due_date=inst.due_date,
        principal_due=inst.principal_due,
        interest_due=inst.interest_due,
        fee_due=inst.fee_due,
        principal_paid=inst.principal_paid,
        interest_paid=inst.interest_paid,
        fee_paid=inst.fee_paid,
        cancelled=inst.cancelled,
        principal_true_up=inst.principal_true_up,
        interest_true_up=inst.interest_true_up,
        status=inst.status,
        paid_on=inst.paid_on,
    )


def _cancel_leftover_dues(book: LoanBook, on: date, detail: list[dict]) -> None:
    """Paid off: whatever the (estimated) schedule still shows as due will never be due."""
    book.load_all_installments()
    for inst in book.installments:
        if inst.remaining > 0:
            amount = inst.remaining
            inst.cancelled += amount
            inst.paid_on = inst.paid_on or on
            book.dirty_installments.add(inst.pk)
            detail.append(
                {
                    "installment": inst.pk,
                    "interest": "0.00",
                    "principal": "0.00",
                    "cancelled": str(amount),
                }
            )


def _set_allocation(payment: Payment, amounts: dict[str, Decimal]) -> None:
    payment.alloc_fees = amounts.get("fees", ZERO)
    payment.alloc_interest = amounts.get("interest", ZERO)
    payment.alloc_principal = amounts.get("principal", ZERO)
    payment.alloc_excess = amounts.get("excess", ZERO)
    payment.alloc_credit = amounts.get("credit", ZERO)


def _record(
    payment: Payment,
    spec: EntrySpec,
    amounts: dict[str, Decimal],
    detail: list[dict],
    *,
    save_payment: bool = True,
) -> PaymentApplication:
    assert spec.created is not None
    application = PaymentApplication(
        payment=payment,
        loan_id=payment.loan_id,
        effective_date=payment.effective_date,
        entry=spec.created,
        fees=amounts.get("fees", ZERO),
        late_fees=amounts.get("late_fees", ZERO),
        interest=amounts.get("interest", ZERO),
        principal=amounts.get("principal", ZERO),
        excess=amounts.get("excess", ZERO),
        credit=amounts.get("credit", ZERO),
        detail=detail,
    )
    insert_row(application)
    if save_payment:
        _set_allocation(payment, amounts)
        payment.save(
            update_fields=[
                "alloc_fees",
                "alloc_interest",
                "alloc_principal",
                "alloc_excess",
                "alloc_credit",
            ]
        )
    return application


# -------------------------------------------------------------------- reversing


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
        loan_transition(
            loan,
            Loan.Status.PAID_OFF,
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
            _unapply(book, application)
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
            loan_transition(
                loan,
                Loan.Status.ACTIVE,
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
        inst = installments.get(fee.installment_id)
        if inst is None:  # charged under an earlier schedule version: the same due date
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
