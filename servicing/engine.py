"""Applying payments to a locked loan, and replaying its history in date order.

Internal to servicing (services call it inside their transaction, with the loan locked).
Order of a loan's history: on each date, the day's interest first, then payments in id order.
A replay from (date D, payment p) reverses every live payment application at or after that
point and every accrual after D (new reversing entries), then accrues and applies again in
order, so interest is recomputed on the balances the payments actually left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q

from lendcore.core.sqlrows import (
    can_combine_writes,
    insert_row,
    select_columns,
    select_models,
    update_row,
    update_rows,
)
from lendcore.finance.money import ZERO
from lendcore.finance.schedule import LoanTerms, build_schedule

from .accrual import ACCRUAL_FIELDS, accrual_reversal_specs, accrue_loans
from .ledger import BALANCE_FIELDS, EntrySpec, cr, dr, journal_post_many, reversal_specs
from .models import (
    Account,
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


def _installments_for_payment(loan_id: int, on: date, *, limit: int | None = None):
    """The current schedule's installments that are unpaid or due on or after `on`, in due
    date order (SQL: it runs for every payment; the ORM's compilation cost more). Unpaid:
    more than half a cent left, exact on PostgreSQL's numeric and robust to SQLite's
    floating-point sums."""
    qn = connection.ops.quote_name
    sql = (
        f"SELECT {select_columns(Installment, 'i')} FROM {qn(Installment._meta.db_table)} i "  # noqa: S608
        f"JOIN {qn(ScheduleVersion._meta.db_table)} v ON v.id = i.schedule_id "
        "WHERE i.loan_id = %s AND v.is_current = %s AND ("
        "i.principal_due + i.interest_due + i.fee_due"
        " - i.principal_paid - i.interest_paid - i.fee_paid - i.cancelled > 0.005"
        " OR i.due_date >= %s) ORDER BY i.due_date, i.number"
    )
    params: list = [loan_id, True, on]
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return select_models(Installment, sql, params)


INSTALLMENT_FIELDS = (
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "cancelled",
    "status",
    "paid_on",
)
FEE_FIELDS = ("paid_amount", "waived_amount")
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
        business date, and the oldest unpaid one. What is not loaded is paid and due before
        `on`, or not due yet; neither changes status. A prepayment or a payoff needs the rest
        and loads it (`load_all_installments`), as does `refresh_statuses` when everything
        loaded is paid. Fees: loaded only when the loan owes some.
        """
        book = cls(
            loan=loan,
            business_date=business_date,
            acting_user=acting_user,
            complete=False,
            defer_balances=True,
        )
        rows = _installments_for_payment(loan.pk, on, limit=PARTIAL_BATCH)
        if len(rows) == PARTIAL_BATCH and rows[-1].due_date <= business_date:
            rows = _installments_for_payment(loan.pk, on)  # many unpaid: take them all
        rows.sort(key=lambda i: i.number)
        book.installments = rows
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
        """Refresh statuses and derived dates, then write what changed."""
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
            status = installment_status(inst, on, grace_days=self.loan.late_fee_grace_days)
            if status != inst.status:
                inst.status = status
                if status == InstallmentStatus.PAID and inst.paid_on is None:
                    inst.paid_on = on
                if status != InstallmentStatus.PAID:
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
        return [f for f in self.fees if f.assessed_on <= on and f.outstanding > 0]

    def window(self, on: date) -> list[Installment]:
        """Installments past due at `on`, plus the current one (the first due on or after).

        Fixed by the date alone (not by what is paid), so that payments on one date add up
        the same whatever order they arrive in.
        """
        due = [i for i in self.installments if i.due_date < on]
        upcoming = [i for i in self.installments if i.due_date >= on]
        return due + upcoming[:1]


def installment_status(inst: Installment, on: date, *, grace_days: int) -> str:
    return inst.status_on(on, grace_days=grace_days)


# -------------------------------------------------------------------- applying a payment


def _fill_installment(inst: Installment, amount: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Pay up to `amount` of the installment: interest first, then principal, then fee."""
    to_interest = max(min(amount, inst.interest_due - inst.interest_paid), ZERO)
    to_principal = max(min(amount - to_interest, inst.principal_due - inst.principal_paid), ZERO)
    to_fee = max(min(amount - to_interest - to_principal, inst.fee_due - inst.fee_paid), ZERO)
    inst.interest_paid += to_interest
    inst.principal_paid += to_principal
    inst.fee_paid += to_fee
    return to_interest, to_principal, to_fee


def apply_payment(book: LoanBook, payment: Payment) -> PaymentApplication:
    """Allocate a payment by the loan's waterfall and post it (loan accrued through its date).

    A payment not saved yet is inserted here, with its allocation (one write instead of an
    INSERT and an UPDATE)."""
    loan = book.loan
    on = payment.effective_date
    detail: list[dict] = []
    if payment.is_recovery:
        spec = EntrySpec(
            entry_type=EntryType.RECOVERY,
            effective_date=on,
            lines=[dr(Account.CASH, payment.amount), cr(Account.RECOVERIES, payment.amount)],
            loan_id=loan.pk,
            reference=payment.reference,
            memo=f"Recovery, payment {payment.pk}",
        )
        journal_post_many(
            entries=[spec],
            business_date=book.business_date,
            acting_user=book.acting_user,
            loans=[loan],
        )
        return _record(payment, spec, {}, detail)

    remaining = payment.amount
    paid = {"fees": ZERO, "interest": ZERO, "principal": ZERO}
    for bucket in loan.allocation_order or ["fees", "interest", "principal"]:
        if remaining <= 0:
            break
        if bucket == "fees":
            for fee in book.open_fees(on):
                take = min(remaining, fee.outstanding)
                if take <= 0:
                    continue
                fee.paid_amount += take
                book.dirty_fees.add(fee.pk)
                detail.append({"fee_id": fee.pk, "amount": str(take)})
                paid["fees"] += take
                remaining -= take
        elif bucket == "interest":
            take = min(remaining, loan.interest_balance)
            paid["interest"] += take
            remaining -= take
        elif bucket == "principal":
            take = min(remaining, loan.principal_balance)
            paid["principal"] += take
            remaining -= take
    credit = remaining

    # Regular part fills the installments in the window (past due oldest first, then the
    # current one); what is beyond them is a prepayment of principal.
    window = book.window(on)
    window_due = sum((i.remaining for i in window), ZERO)
    regular_total = min(paid["interest"] + paid["principal"], window_due)
    excess_principal = min(paid["principal"], paid["interest"] + paid["principal"] - regular_total)
    excess_principal = max(excess_principal, ZERO)
    regular_principal = paid["principal"] - excess_principal
    to_fill = regular_total
    for inst in window:
        if to_fill <= 0:
            break
        di, dp, df = _fill_installment(inst, min(to_fill, inst.remaining))
        if di or dp or df:
            book.dirty_installments.add(inst.pk)
            detail.append(
                {"installment": inst.pk, "interest": str(di), "principal": str(dp), "fee": str(df)}
            )
            to_fill -= di + dp + df
    amounts = {
        "fees": paid["fees"],
        "interest": paid["interest"],
        "principal": regular_principal,
        "excess": excess_principal + credit,
        "credit": credit,
    }
    inserted = payment._state.adding
    if inserted:  # a new payment: its row is written once, with its allocation
        _set_allocation(payment, amounts)
        insert_row(payment)
    lines = [dr(Account.CASH, payment.amount)]
    lines += [
        cr(Account.FEES, paid["fees"]),
        cr(Account.INTEREST, paid["interest"]),
        cr(Account.PRINCIPAL, paid["principal"]),
        cr(Account.CREDIT, credit),
    ]
    spec = EntrySpec(
        entry_type=EntryType.PAYMENT,
        effective_date=on,
        lines=lines,
        loan_id=loan.pk,
        reference=payment.reference,
        memo=f"Payment {payment.pk} ({payment.method})",
    ).nonzero()
    book.post([spec])
    if excess_principal > 0:
        _apply_prepayment(book, on, excess_principal, window, detail)
    if book.outstanding == 0:
        _cancel_leftover_dues(book, detail)
    return _record(payment, spec, amounts, detail, save_payment=not inserted)


def _apply_prepayment(
    book: LoanBook, on: date, amount: Decimal, window: list[Installment], detail: list[dict]
) -> None:
    book.load_all_installments()
    future = [i for i in book.installments if i not in window and i.remaining > 0]
    if not future:
        return
    loan = book.loan
    if loan.prepayment_option == Loan.PrepaymentOption.REAMORTIZE and book.outstanding > 0:
        _reamortize(book, on, future, window, detail)
        return
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
        book.dirty_installments.add(inst.pk)
        detail.append(
            {
                "installment": inst.pk,
                "interest": "0.00",
                "principal": str(take),
                "cancelled": str(cancelled),
            }
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
    terms = LoanTerms(
        principal=principal_left,
        annual_rate=loan.annual_rate,
        n_periods=len(future),
        frequency=loan.frequency,
        disbursement_date=start,
        first_due_date=future[0].due_date,
        amortization="level",
        interest_method=loan.interest_method,
        day_count=loan.day_count,
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
    for inst in schedule.installments:
        rows.append(
            Installment(
                schedule=version,
                loan=loan,
                number=offset + inst.number,
                due_date=inst.due_date,
                principal_due=inst.principal,
                interest_due=inst.interest,
            )
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
        status=inst.status,
        paid_on=inst.paid_on,
    )


def _cancel_leftover_dues(book: LoanBook, detail: list[dict]) -> None:
    """Paid off: whatever the (estimated) schedule still shows as due will never be due."""
    book.load_all_installments()
    for inst in book.installments:
        if inst.remaining > 0:
            amount = inst.remaining
            inst.cancelled += amount
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


def _unapply(book: LoanBook, application: PaymentApplication) -> None:
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
    installments = {i.pk: i for i in book.installments}
    for item in reversed(application.detail):
        if "installment" not in item or item["installment"] not in installments:
            continue
        inst = installments[item["installment"]]
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
    payment's date, then through `accrue_through`. Returns the payments re-applied.
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
    accruals = list(
        InterestAccrual.objects.filter(loan_id=loan.pk, reversed=False, date__gt=from_date)
        .select_related("entry")
        .order_by("date")
    )
    reversed_entries: list[JournalEntry] = [a.entry for a in live]
    # The loan's own accrual entries (posted with a payment) are mirrored whole; its share
    # of close of business's shared ones is reversed from the accrual rows.
    shared = [a for a in accruals if a.entry is not None and a.entry.loan_id is None]
    reversed_entries += [a.entry for a in accruals if a.entry is not None and a.entry.loan_id]
    if live or accruals:
        for application in live:
            _unapply(book, application)
        specs = reversal_specs(reversed_entries, memo=memo)
        specs += accrual_reversal_specs(shared, memo=memo)
        journal_post_many(
            entries=specs,
            business_date=book.business_date,
            acting_user=book.acting_user,
            loans=[loan],
        )
        PaymentApplication.objects.filter(pk__in=[a.pk for a in live]).update(reversed=True)
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
    for payment in payments:
        if loan.status != Loan.Status.ACTIVE:
            # Paid off by an earlier payment in the replay: the rest is the borrower's credit.
            _apply_to_credit(book, payment)
            continue
        apply_in_order(book, payment)
    if loan.status == Loan.Status.ACTIVE:
        accrue_loans(
            [loan],
            through=accrue_through,
            business_date=book.business_date,
            acting_user=book.acting_user,
        )
    return payments


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
