"""Modification (also collections' hardship plans) and charge-off, both four-eyes.

Public through `servicing.services`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from lendcore.accounts.roles import Action, perm
from lendcore.accounts.selectors import user_roles
from lendcore.core.state import transition
from lendcore.errors import PermissionDenied
from lendcore.finance.dates import add_months, days_in_month
from lendcore.finance.money import ZERO
from lendcore.finance.schedule import build_schedule

from .accrual import accrue_loans
from .cob import config as cob_config
from .engine import LoanBook, loan_terms_for, schedule_version_create
from .errors import ErrorCode, LoanStateConflict, ServicingValidationError
from .ledger import (
    EntrySpec,
    cr,
    dr,
    journal_post,
    journal_post_many,
    loan_suspense_balance,
    reversal_specs,
)
from .lock_objects import loan_lock
from .models import (
    Account,
    ChargeOff,
    EntryType,
    Loan,
    LoanEvent,
    Modification,
    PaymentApplication,
)
from .modification_limits import within_role_limits
from .selectors import business_date_get
from .validation import actor as _actor
from .validation import permission_require
from .webhook_events import loan_event

# A re-scheduled loan whose last installment is this far (a share of the installment) from
# the others does not amortize: the installment barely covers a period's interest.
NOT_LEVEL = Decimal("0.25")


def modification_approval_limit() -> Decimal:
    return Decimal(str(getattr(settings, "SERVICING_MODIFICATION_APPROVAL_LIMIT", "25000.00")))


def _four_eyes(requested_by_id: int, acting_user, codename: str) -> None:
    if getattr(acting_user, "pk", None) == requested_by_id:
        raise PermissionDenied(
            "Four-eyes: someone other than the requester must decide.", code=ErrorCode.FOUR_EYES
        )
    if acting_user is None or not acting_user.has_perm(perm(codename)):
        raise PermissionDenied(f"This decision needs the {codename} permission.")


# --------------------------------------------------------------------------- modification


def _modification_validate(
    *,
    annual_rate_pct: Decimal | None,
    remaining_term: int | None,
    due_day: int | None,
    defer_installments: int,
    reason: str,
    interest_only_installments: int = 0,
) -> None:
    fields: dict[str, list[str]] = {}
    if annual_rate_pct is not None and not (Decimal("0") <= annual_rate_pct < Decimal("100")):
        fields["annual_rate_pct"] = ["The rate must be between 0 and 100 percent."]
    if remaining_term is not None and not (1 <= remaining_term <= 480):
        fields["remaining_term"] = ["The remaining term must be between 1 and 480 installments."]
    if due_day is not None and not (1 <= due_day <= 28):
        fields["due_day"] = ["The due day must be between 1 and 28."]
    if not (0 <= defer_installments <= 12):
        fields["defer_installments"] = ["Defer between 0 and 12 installments."]
    if not (0 <= interest_only_installments <= 12):
        fields["interest_only_installments"] = ["Between 0 and 12 interest-only installments."]
    if not (reason or "").strip():
        fields["reason"] = ["Say why the loan is modified."]
    if (
        not fields
        and annual_rate_pct is None
        and remaining_term is None
        and due_day is None
        and not defer_installments
        and not interest_only_installments
    ):
        fields["non_field_errors"] = [
            "Change at least one of rate, term, due day, deferral or interest-only installments."
        ]
    if fields:
        raise ServicingValidationError.for_fields(
            fields, message="Invalid modification.", code=ErrorCode.INVALID_MODIFICATION
        )


@transaction.atomic
def loan_modify(
    *,
    loan: Loan,
    annual_rate_pct: Decimal | None = None,
    remaining_term: int | None = None,
    due_day: int | None = None,
    defer_installments: int = 0,
    interest_only_installments: int = 0,
    reason: str,
    acting_user,
    requested_by=None,
) -> Modification:
    """Re-schedule the loan's principal (new schedule version, old one kept). The loan
    cures: what is past due is no longer due on its old dates (`_modified_terms`).

    It applies at once only within the approval limit (principal balance) and the
    requester's role limits (`servicing.modification_limits`); otherwise it waits for a
    second person (`modification_decide`).

    `requested_by`: someone else asked for it (a collections hardship plan's requester, a
    borrower included) and `acting_user` approves it now; four eyes in one step: the
    approver holds approve_modifications and is not the requester (403 otherwise), and
    it applies at once whatever the limits.
    """
    second_person = requested_by is not None and getattr(requested_by, "pk", None) != getattr(
        acting_user, "pk", None
    )
    if requested_by is not None:
        _four_eyes(requested_by.pk, acting_user, Action.APPROVE_MODIFICATION)
    else:
        permission_require(acting_user, Action.MODIFY_LOAN)
    _modification_validate(
        annual_rate_pct=annual_rate_pct,
        remaining_term=remaining_term,
        due_day=due_day,
        defer_installments=defer_installments,
        interest_only_installments=interest_only_installments,
        reason=reason,
    )
    loan = loan_lock(loan_id=loan.pk)
    if loan.status != Loan.Status.ACTIVE:
        raise LoanStateConflict("Only an active loan can be modified.", code=ErrorCode.LOAN_CLOSED)
    modification = Modification(
        loan=loan,
        annual_rate=annual_rate_pct / 100 if annual_rate_pct is not None else None,
        remaining_term=remaining_term,
        due_day=due_day,
        defer_installments=defer_installments,
        interest_only_installments=interest_only_installments,
        reason=reason.strip()[:255],
        requested_by=requested_by if requested_by is not None else acting_user,
    )
    bd = business_date_get()
    # Check that it amortizes now, whether or not it waits for approval.
    book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
    _modified_terms(book, modification, bd)
    modification.save(force_insert=True)
    future = sum(1 for i in book.installments if i.due_date >= bd)
    granted = second_person or (
        loan.principal_balance <= modification_approval_limit()
        and _within_own_grant(
            acting_user,
            loan=loan,
            annual_rate_pct=annual_rate_pct,
            term_extension=(remaining_term or future) - future,
            defer_installments=max(defer_installments, interest_only_installments),
        )
    )
    if granted:
        # Applied at once: the timeline's one row is the transition's (status `applied`).
        _modification_apply(book, modification, bd, acting_user, reason=modification.reason)
        return modification
    LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.MODIFICATION,
        reason=modification.reason,
        data={"modification": modification.pk, "status": "requested"},
        business_date=bd,
        actor=_actor(acting_user),
    )
    return modification


def _within_own_grant(
    acting_user, *, loan: Loan, annual_rate_pct, term_extension: int, defer_installments: int
) -> bool:
    """Whether the requester may apply this modification without a second person: the
    system and approvers always; others within one of their roles' limits."""
    if acting_user is None or acting_user.has_perm(perm(Action.APPROVE_MODIFICATION)):
        return True
    return within_role_limits(
        roles=user_roles(acting_user),
        current_rate_pct=loan.annual_rate_pct,
        annual_rate_pct=annual_rate_pct,
        term_extension=term_extension,
        defer_installments=defer_installments,
    )


@transaction.atomic
def modification_decide(
    *, loan: Loan, modification_id: int, approve: bool, reason: str, acting_user
) -> Modification:
    loan = loan_lock(loan_id=loan.pk)
    modification = Modification.objects.filter(pk=modification_id, loan=loan).first()
    if modification is None:
        raise ServicingValidationError.field("modification_id", "No such modification.")
    to = Modification.Status.APPLIED if approve else Modification.Status.REJECTED
    if to not in Modification.TRANSITIONS.get(modification.status, ()):
        raise LoanStateConflict(
            f"This modification is already {modification.status}.",
            code=ErrorCode.INVALID_TRANSITION,
        )
    _four_eyes(modification.requested_by_id, acting_user, "approve_modifications")
    bd = business_date_get()
    if approve:
        book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
        _modification_apply(book, modification, bd, acting_user, reason=reason)
    else:
        modification.decided_by = acting_user
        modification.decided_at = timezone.now()
        transition(
            modification,
            to=to,
            acting_user=acting_user,
            reason=reason,
            update_fields=["decided_by", "decided_at"],
            error=LoanStateConflict,
            business_date=bd,
        )
    return modification


def _modified_terms(book: LoanBook, modification: Modification, bd: date):
    """The new schedule's terms and the installments kept (those due before `bd`).

    The loan cures: the whole principal balance is re-scheduled, its past-due principal
    with the rest (capitalised into the new installments), and what the kept installments
    still bill is cancelled (`_arrears_cancel`); their unpaid interest stays owed and is
    deferred: the waterfall and the final installment's true-up collect it, as they do any
    interest no installment bills. (Before, the past-due installments stayed due: a loan
    67 days past due was as late after its modification.)"""
    loan = book.loan
    keep = [i for i in book.installments if i.due_date < bd]
    future = [i for i in book.installments if i.due_date >= bd]
    principal = loan.principal_balance
    if principal <= 0 or not future:
        raise LoanStateConflict(
            "Nothing is left to re-schedule: the loan has no installment still to come.",
            code=ErrorCode.INVALID_MODIFICATION,
        )
    start = keep[-1].due_date if keep else loan.disbursed_on
    first_due = future[0].due_date
    if modification.due_day:
        first_due = first_due.replace(
            day=min(modification.due_day, days_in_month(first_due.year, first_due.month))
        )
        if first_due <= max(start, bd):
            first_due = add_months(first_due, 1, anchor_day=modification.due_day)
    if modification.defer_installments:
        first_due = add_months(first_due, modification.defer_installments)
    rate = modification.annual_rate if modification.annual_rate is not None else loan.annual_rate
    n_periods = modification.remaining_term or len(future)
    if modification.interest_only_installments >= n_periods:
        raise ServicingValidationError.field(
            "interest_only_installments",
            f"At most {n_periods - 1} of the {n_periods} installments can be interest-only.",
            code=ErrorCode.INVALID_MODIFICATION,
        )
    try:
        terms = loan_terms_for(
            loan,
            principal=principal,
            start=start,
            first_due=first_due,
            n_periods=n_periods,
            annual_rate=rate,
            grace_periods=modification.interest_only_installments,
        )
        schedule = build_schedule(terms)
    except ValueError as error:
        raise ServicingValidationError(
            f"The modified schedule is invalid: {error}", code=ErrorCode.INVALID_MODIFICATION
        ) from None
    # A longer first period (a later due day, deferred installments) has more interest than
    # one installment: the schedule carries the rest to the next installments (deferred, not
    # capitalised) and levels the installment over them (lendcore.finance.schedule). Refuse
    # what still does not amortize: an installment that barely covers a period's interest,
    # where a cent of rounding leaves the last installment far from the others.
    regular = schedule.payment
    last = schedule.installments[-1].payment
    if len(schedule.installments) > 1 and abs(last - regular) > regular * NOT_LEVEL:
        raise LoanStateConflict(
            f"The modified schedule would not amortize: its installment of {regular} barely "
            f"covers the interest, and the last one would be {last}. Lower the rate, shorten "
            "the remaining term, or defer fewer installments.",
            code=ErrorCode.INVALID_MODIFICATION,
        )
    if any(i.principal < 0 or i.interest < 0 for i in schedule.installments):
        raise LoanStateConflict(
            "The modified schedule would have negative amounts.",
            code=ErrorCode.INVALID_MODIFICATION,
        )
    return terms, keep


def _modification_apply(
    book: LoanBook, modification: Modification, bd: date, acting_user, *, reason: str
) -> None:
    loan = book.loan
    accrue_loans([loan], through=bd, business_date=bd, acting_user=acting_user)
    terms, keep = _modified_terms(book, modification, bd)
    from_version = book.installments[0].schedule if book.installments else None
    version = schedule_version_create(
        book,
        terms=terms,
        keep=keep,
        reason=f"Modification {modification.pk}: {modification.reason}"[:200],
        effective_date=bd,
    )
    if modification.annual_rate is not None:
        loan.annual_rate = modification.annual_rate
        loan.annual_rate_pct = modification.annual_rate * 100
        loan.save(update_fields=["annual_rate", "annual_rate_pct", "updated_at"])
    _arrears_cancel(book, kept=len(keep))
    book.save()
    _delinquency_refresh(loan, bd)
    modification.from_schedule = from_version
    modification.to_schedule = version
    if modification.requested_by_id != getattr(acting_user, "pk", None):
        modification.decided_by = acting_user
        modification.decided_at = timezone.now()
    transition(
        modification,
        to=Modification.Status.APPLIED,
        acting_user=acting_user,
        reason=reason,
        update_fields=["from_schedule", "to_schedule", "decided_by", "decided_at"],
        error=LoanStateConflict,
        business_date=bd,
    )
    loan_event(
        "loan.modified",
        loan,
        modification_id=modification.pk,
        annual_rate=modification.annual_rate,
        remaining_term=modification.remaining_term,
        due_day=modification.due_day,
        defer_installments=modification.defer_installments,
        effective_date=bd,
    )


def _arrears_cancel(book: LoanBook, *, kept: int) -> None:
    """The new version's copies of the past-due installments bill nothing more: their
    principal is in the new schedule, their interest deferred (`_modified_terms`)."""
    for inst in book.installments[:kept]:
        remaining = inst.remaining
        if remaining > 0:
            inst.cancelled += remaining
            book.dirty_installments.add(inst.pk)


def _delinquency_refresh(loan: Loan, bd: date) -> None:
    """Days past due and bucket as of `bd` now, not at the next close of business (which
    computes them the same way, from the oldest unpaid due date): a cured loan is current
    and no longer flagged delinquent."""
    oldest = loan.oldest_unpaid_due_date
    dpd = (bd - oldest).days if oldest is not None and oldest < bd else 0
    loan.dpd = dpd
    loan.delinquency_bucket = cob_config.bucket_for(dpd)
    fields = ["dpd", "delinquency_bucket", "updated_at"]
    if dpd == 0 and loan.delinquent:
        loan.delinquent = False
        fields.append("delinquent")
    loan.save(update_fields=fields)


# --------------------------------------------------------------------------- charge-off


@transaction.atomic
def charge_off_request(*, loan: Loan, reason: str, acting_user) -> ChargeOff:
    permission_require(acting_user, Action.CHARGE_OFF)
    if not (reason or "").strip():
        raise ServicingValidationError.field("reason", "Say why the loan is charged off.")
    loan = loan_lock(loan_id=loan.pk)
    if loan.status != Loan.Status.ACTIVE:
        raise LoanStateConflict(
            "Only an active loan can be charged off.", code=ErrorCode.INVALID_TRANSITION
        )
    try:
        with transaction.atomic():
            charge_off = ChargeOff.objects.create(
                loan=loan, reason=reason.strip()[:255], requested_by=acting_user
            )
    except IntegrityError:
        raise LoanStateConflict(
            "A charge-off of this loan is already requested.", code=ErrorCode.INVALID_TRANSITION
        ) from None
    LoanEvent.objects.create(
        loan=loan,
        kind=LoanEvent.Kind.CHARGE_OFF,
        reason=charge_off.reason,
        data={"charge_off": charge_off.pk, "status": "requested"},
        business_date=business_date_get(),
        actor=_actor(acting_user),
    )
    return charge_off


@transaction.atomic(durable=True)
def charge_off_decide(*, loan: Loan, approve: bool, reason: str, acting_user) -> ChargeOff:
    """Approve (a different user with approve_charge_off) or reject the open request.

    Approval writes the remaining principal, interest (accrued to the business date) and
    fees off to charge-off expense and makes the loan `charged_off`.
    """
    bd = business_date_get()
    loan = loan_lock(loan_id=loan.pk)
    charge_off = ChargeOff.objects.filter(loan=loan, status=ChargeOff.Status.REQUESTED).first()
    if charge_off is None:
        raise LoanStateConflict(
            "There is no charge-off request to decide.", code=ErrorCode.INVALID_TRANSITION
        )
    _four_eyes(charge_off.requested_by_id, acting_user, "approve_charge_off")
    charge_off.decided_by = acting_user
    charge_off.decided_at = timezone.now()
    if not approve:
        transition(
            charge_off,
            to=ChargeOff.Status.REJECTED,
            acting_user=acting_user,
            reason=reason,
            update_fields=["decided_by", "decided_at"],
            error=LoanStateConflict,
            business_date=bd,
        )
        return charge_off
    if loan.status != Loan.Status.ACTIVE:
        raise LoanStateConflict("Only an active loan can be charged off.")
    book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
    accrue_loans([loan], through=bd, business_date=bd, acting_user=acting_user)
    principal, interest, fees = loan.principal_balance, loan.interest_balance, loan.fees_balance
    total = principal + interest + fees
    # Interest held in suspense (a non-accrual loan) was never income: it is reversed against
    # the receivable, not expensed; the rest of what is owed is the loss.
    suspended = min(interest, loan_suspense_balance(loan.pk)) if interest > 0 else ZERO
    entry = None
    if total > 0:
        entry = journal_post(
            entry_type=EntryType.CHARGE_OFF,
            effective_date=bd,
            business_date=bd,
            loan=loan,
            reference=loan.loan_number,
            memo=f"Charge-off {charge_off.pk}: {charge_off.reason}"[:255],
            lines=[
                *([dr(Account.CHARGE_OFF, total - suspended)] if total - suspended else []),
                *([dr(Account.SUSPENSE, suspended)] if suspended else []),
                *([cr(Account.PRINCIPAL, principal)] if principal else []),
                *([cr(Account.INTEREST, interest)] if interest else []),
                *([cr(Account.FEES, fees)] if fees else []),
            ],
            acting_user=acting_user,
        )
    charge_off.principal, charge_off.interest, charge_off.fees = principal, interest, fees
    charge_off.effective_date = bd
    charge_off.entry = entry
    transition(
        charge_off,
        to=ChargeOff.Status.APPROVED,
        acting_user=acting_user,
        reason=reason,
        update_fields=[
            "principal",
            "interest",
            "fees",
            "effective_date",
            "entry",
            "decided_by",
            "decided_at",
        ],
        error=LoanStateConflict,
        business_date=bd,
    )
    loan.charged_off_on = bd
    transition(
        loan,
        to=Loan.Status.CHARGED_OFF,
        acting_user=acting_user,
        reason=f"Charge-off {charge_off.pk} approved: {reason}"[:500],
        update_fields=["charged_off_on"],
        error=LoanStateConflict,
        business_date=bd,
    )
    book.save()
    loan_event(
        "loan.charged_off",
        loan,
        charge_off_id=charge_off.pk,
        principal=principal,
        interest=interest,
        fees=fees,
        charged_off_on=bd,
    )
    return charge_off


@transaction.atomic
def charge_off_undo(*, loan: Loan, reason: str, acting_user) -> ChargeOff:
    """Reverse an approved charge-off (reversing entry); refused once recoveries were posted."""
    if not (reason or "").strip():
        raise ServicingValidationError.field("reason", "Say why the charge-off is undone.")
    permission_require(acting_user, "approve_charge_off")
    bd = business_date_get()
    loan = loan_lock(loan_id=loan.pk)
    charge_off = (
        ChargeOff.objects.filter(loan=loan, status=ChargeOff.Status.APPROVED)
        .select_related("entry")
        .first()
    )
    if charge_off is None or loan.status != Loan.Status.CHARGED_OFF:
        raise LoanStateConflict("This loan is not charged off.", code=ErrorCode.INVALID_TRANSITION)
    if PaymentApplication.objects.filter(
        loan_id=loan.pk, reversed=False, payment__is_recovery=True
    ).exists():
        raise LoanStateConflict(
            "Recoveries were posted after the charge-off; reverse them first.",
            code=ErrorCode.INVALID_TRANSITION,
        )
    if charge_off.entry is not None:
        specs: list[EntrySpec] = reversal_specs(
            [charge_off.entry], memo=f"Charge-off {charge_off.pk} undone: {reason}"[:255]
        )
        journal_post_many(entries=specs, business_date=bd, acting_user=acting_user, loans=[loan])
    transition(
        charge_off,
        to=ChargeOff.Status.UNDONE,
        acting_user=acting_user,
        reason=reason,
        error=LoanStateConflict,
        business_date=bd,
    )
    loan.charged_off_on = None
    transition(
        loan,
        to=Loan.Status.ACTIVE,
        acting_user=acting_user,
        reason=reason[:500],
        update_fields=["charged_off_on"],
        error=LoanStateConflict,
        business_date=bd,
    )
    book = LoanBook.load(loan, business_date=bd, acting_user=acting_user)
    book.save()
    return charge_off
