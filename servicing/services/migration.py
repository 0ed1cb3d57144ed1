"""Migration: loans brought over from another system, boarded in bulk with opening balances.

A migrated loan is boarded on the rules of `loan_board` (the same Loan fields, the schedule
from `lendcore.finance.schedule.build_schedule`), except that no money moves:

- Schedule v1 keeps the original schedule's first `installments_paid` installments, paid in
  full on their due dates; the last of them carries as a principal true-up whatever the
  borrower paid beyond (or short of) the scheduled principal, so that the principal paid
  equals principal - principal outstanding. The remaining installments re-amortize the
  outstanding principal over the remaining periods on the original due dates (the same
  schedule when the loan ran to plan).
- One `migration` journal entry per loan brings the ledger to the stated balances:
  Dr principal receivable, Dr interest receivable, Cr migration clearing (3900); fees
  outstanding get a `fee` entry (Dr fees receivable, Cr migration clearing) and an open
  manual Fee the payment waterfall collects like any other.
- Accrual continues from `as_of_date` (the last accrual date): close of business accrues
  the days after it.

`loan_migration_check` lists every rule a migration breaks (field, code, message) without
writing; `loans_migrate` writes a batch with a constant number of statements.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from lendcore.accounts.models import Borrower
from lendcore.core.sqlcopy import copy_objects, copy_rows, reserve_ids
from lendcore.core.sqlrows import update_many
from lendcore.finance.money import ZERO
from lendcore.finance.schedule import Installment as PlannedInstallment
from lendcore.finance.schedule import build_schedule
from servicing.errors import ServicingValidationError
from servicing.ledger import EntrySpec, cr, dr, journal_post_many
from servicing.models import (
    Account,
    EntryType,
    Fee,
    Installment,
    Loan,
    LoanEvent,
    ScheduleVersion,
)
from servicing.selectors import business_date_get
from servicing.types import LoanMigration
from servicing.validation import actor as _actor

from .boarding import _terms_snapshot

MIGRATION_METHOD = "migration"


@dataclass(frozen=True)
class MigrationProblem:
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class MigrationPlan:
    """The installments a valid migration boards: (planned row, principal true-up, paid)."""

    rows: tuple[tuple[PlannedInstallment, Decimal, bool], ...]
    regular_payment: Decimal


def _problem(field: str, code: str, message: str) -> list[MigrationProblem]:
    return [MigrationProblem(field, code, message)]


def _balance_problems(m: LoanMigration, business_date: date) -> list[MigrationProblem]:
    terms = m.boarding.terms
    found: list[MigrationProblem] = []
    if m.as_of_date < terms.disbursement_date:
        found += _problem(
            "as_of_date", "before_disbursement", "The balances' date is before the disbursement."
        )
    if m.as_of_date > business_date:
        found += _problem(
            "as_of_date",
            "after_business_date",
            f"The balances' date is after the business date {business_date}.",
        )
    if m.principal_outstanding <= 0:
        found += _problem(
            "principal_outstanding", "not_positive", "Only loans with principal owed migrate."
        )
    elif m.principal_outstanding > terms.principal:
        found += _problem(
            "principal_outstanding",
            "exceeds_principal",
            f"The principal outstanding is more than the principal {terms.principal}.",
        )
    for name in ("interest_accrued", "fees_outstanding"):
        if getattr(m, name) < 0:
            found += _problem(name, "negative", "Must be zero or more.")
    if not 0 <= m.installments_paid < terms.n_periods:
        found += _problem(
            "installments_paid",
            "out_of_range",
            f"Between 0 and {terms.n_periods - 1} (a loan with every installment paid is "
            "paid off).",
        )
    return found


def _payment_problems(m: LoanMigration, paid_principal: Decimal) -> list[MigrationProblem]:
    if m.payments is None:
        return []
    found: list[MigrationProblem] = []
    for payment in m.payments:
        if not m.boarding.terms.disbursement_date <= payment.paid_on <= m.as_of_date:
            found += _problem(
                "payments",
                "date_out_of_range",
                f"A payment on {payment.paid_on} is outside disbursement..as_of_date.",
            )
            break
    history = sum((p.principal for p in m.payments), ZERO)
    if history != paid_principal:
        found += _problem(
            "payments",
            "principal_mismatch",
            f"The payment history's principal ({history}) is not the principal paid "
            f"({paid_principal} = principal - principal outstanding).",
        )
    return found


def _plan(m: LoanMigration) -> tuple[MigrationPlan | None, list[MigrationProblem]]:
    terms = m.boarding.terms
    original = build_schedule(terms)
    k = m.installments_paid
    paid = original.installments[:k]
    if paid and paid[-1].due_date > m.as_of_date:
        return None, _problem(
            "installments_paid",
            "not_yet_due",
            f"Installment {k} falls due on {paid[-1].due_date}, after the balances' date.",
        )
    paid_principal = terms.principal - m.principal_outstanding
    true_up = paid_principal - sum((i.principal for i in paid), ZERO)
    if true_up != 0 and (not paid or paid[-1].principal + true_up < 0):
        return None, _problem(
            "principal_outstanding",
            "balance_mismatch",
            f"With {k} installments paid the principal outstanding would be "
            f"{terms.principal - sum((i.principal for i in paid), ZERO)}, not "
            f"{m.principal_outstanding}; "
            + ("no installment is paid to carry the difference." if not paid else "too low."),
        )
    problems = _payment_problems(m, paid_principal)
    if problems:
        return None, problems
    if true_up == 0:  # the loan ran to plan: the original schedule's remainder
        rows = [(inst, ZERO, n <= k) for n, inst in enumerate(original.installments, 1)]
        return MigrationPlan(rows=tuple(rows), regular_payment=original.payment), []
    rest = build_schedule(
        dataclasses.replace(
            terms,
            principal=m.principal_outstanding,
            n_periods=terms.n_periods - k,
            disbursement_date=paid[-1].due_date,
            first_due_date=original.installments[k].due_date,
            grace_periods=max(0, terms.grace_periods - k),
        )
    )
    rows = [(inst, true_up if n == k else ZERO, True) for n, inst in enumerate(paid, 1)]
    rows += [(inst._replace(number=k + inst.number), ZERO, False) for inst in rest.installments]
    return MigrationPlan(rows=tuple(rows), regular_payment=rest.payment), []


def loan_migration_check(
    migration: LoanMigration, *, business_date: date | None = None
) -> tuple[MigrationPlan | None, list[MigrationProblem]]:
    """The plan of one migration, or every rule it breaks (nothing is written)."""
    bd = business_date or business_date_get()
    problems = _balance_problems(migration, bd)
    if problems:
        return None, problems
    try:
        return _plan(migration)
    except ValueError as error:  # terms build_schedule refuses
        return None, _problem("terms", "invalid_terms", str(error))


def _loan(m: LoanMigration, plan: MigrationPlan, borrower: Borrower, **fields) -> Loan:
    b, terms = m.boarding, m.boarding.terms
    unpaid = next(row[0] for row in plan.rows if not row[2])
    return Loan(
        borrower=borrower,
        product_code=b.product_code,
        product_name=b.product_name,
        product_version=b.product_version,
        currency=b.currency,
        principal_amount=terms.principal,
        annual_rate=terms.annual_rate,
        annual_rate_pct=b.annual_rate_pct
        if b.annual_rate_pct is not None
        else terms.annual_rate * 100,
        apr=b.apr,
        n_periods=terms.n_periods,
        frequency=terms.frequency,
        day_count=terms.day_count,
        amortization=terms.amortization,
        interest_method=terms.interest_method,
        first_due_date=plan.rows[0][0].due_date,
        maturity_date=plan.rows[-1][0].due_date,
        terms=_terms_snapshot(terms),
        interest_model=b.interest_model,
        origination_fee=b.origination_fee,
        origination_fee_kind=b.origination_fee_kind,
        late_fee_kind=b.late_fee.kind,
        late_fee_amount=b.late_fee.amount,
        late_fee_grace_days=b.late_fee.grace_days,
        late_fee_cap=b.late_fee.cap,
        nsf_fee=b.nsf_fee,
        allocation_order=list(b.allocation_order),
        prepayment_option=b.prepayment_option,
        disbursed_on=terms.disbursement_date,
        disbursement_method=MIGRATION_METHOD,
        external_id=m.external_id,
        last_accrual_date=m.as_of_date,
        oldest_unpaid_due_date=unpaid.due_date,
        dpd=max(0, (m.as_of_date - unpaid.due_date).days),
        **fields,
    )


def _borrowers(migrations: Sequence[LoanMigration]) -> list[Borrower]:
    """One Borrower per distinct borrower ref in the batch (a row without a ref: its own)."""
    by_ref: dict[str, Borrower] = {}
    result: list[Borrower] = []
    for m in migrations:
        ref = m.borrower.ref
        if ref and ref in by_ref:
            result.append(by_ref[ref])
            continue
        borrower = Borrower(
            first_name=m.borrower.first_name,
            last_name=m.borrower.last_name,
            email=m.borrower.email,
            phone=m.borrower.phone,
        )
        if ref:
            by_ref[ref] = borrower
        result.append(borrower)
    unique = list({id(b): b for b in result}.values())
    Borrower.objects.bulk_create(unique)
    return result


def _history(m: LoanMigration) -> list[dict[str, str]] | None:
    if m.payments is None:
        return None
    return [
        {
            "paid_on": p.paid_on.isoformat(),
            "amount": str(p.amount),
            "principal": str(p.principal),
            "interest": str(p.interest),
            "fees": str(p.fees),
        }
        for p in m.payments
    ]


@transaction.atomic
def loans_migrate(
    *,
    migrations: Sequence[LoanMigration],
    refs: Sequence[str],
    acting_user,
    owner=None,
    plans: Sequence[MigrationPlan | None] | None = None,
) -> list[Loan]:
    """Board a batch of migrated loans (all or nothing, in the caller's transaction).

    `refs`: each loan's `application_ref` (at most 19 characters; e.g. the import job and
    row), so boarding the same rows twice is refused by the unique constraint and a resumed
    import can skip what is boarded. `owner`: the integrator whose `external_id`s these are
    (defaults to `acting_user`). `plans`: each migration's plan as `loan_migration_check`
    returned it (an import validates every row first: its schedule is not built twice); the
    date rules are checked again here (the business date may have moved)."""
    bd = business_date_get()
    checked: list[MigrationPlan] = []
    given = plans if plans is not None else [None] * len(migrations)
    for n, (m, known) in enumerate(zip(migrations, given, strict=True), 1):
        plan: MigrationPlan | None
        if known is not None:
            problems = _balance_problems(m, bd)
            plan = None if problems else known
        else:
            plan, problems = loan_migration_check(m, business_date=bd)
        if plan is None:
            first = problems[0]
            raise ServicingValidationError.field(
                first.field, f"Loan {n} ({m.external_id}): {first.message}", code=first.code
            )
        checked.append(plan)
    plans = checked
    actor = _actor(acting_user)
    owner_id = getattr(owner or actor, "pk", None)
    borrowers = _borrowers(migrations)
    loans = [
        _loan(
            m,
            plan,
            borrower,
            loan_number=f"M{ref}"[:20],
            application_ref=ref,
            disbursement_reference=ref,
            external_id_owner_id=owner_id,
            created_by=actor,
        )
        for ref, m, plan, borrower in zip(refs, migrations, plans, borrowers, strict=True)
    ]
    ids = reserve_ids(Loan, len(loans))
    if ids is not None:
        # PostgreSQL: the keys first, so the opening entries set the cached balances in
        # memory and each loan is written once (its entries' foreign key is deferred)
        for loan, pk in zip(loans, ids, strict=True):
            loan.pk, loan.loan_number = pk, f"LN-{pk:06d}"
        fees = _open_balances(loans, migrations, business_date=bd, acting_user=actor, save=False)
        copy_objects(loans)
    else:
        Loan.objects.bulk_create(loans)
        for loan in loans:
            loan.loan_number = f"LN-{loan.pk:06d}"
        update_many(loans, ["loan_number"])
        fees = _open_balances(loans, migrations, business_date=bd, acting_user=actor, save=True)
    Fee.objects.bulk_create(fees)
    versions = _schedule_versions(loans, migrations, plans, actor)
    copy_rows(
        Installment,
        INSTALLMENT_COLUMNS,
        (
            _installment(version, row)
            for version, plan in zip(versions, plans, strict=True)
            for row in plan.rows
        ),
        line=_installment_line,
    )
    now = timezone.now()
    copy_rows(
        LoanEvent,
        (
            "loan",
            "kind",
            "from_status",
            "to_status",
            "reason",
            "data",
            "business_date",
            "actor",
            "created_at",
        ),
        (
            (
                loan.pk,
                LoanEvent.Kind.BOARDED.value,
                "",
                "",
                f"Migrated ({loan.application_ref})",
                json.dumps(
                    {
                        "migrated": True,
                        "external_id": m.external_id,
                        "as_of_date": m.as_of_date.isoformat(),
                        "installments_paid": m.installments_paid,
                        "payments": _history(m),
                    }
                ),
                bd,
                getattr(actor, "pk", None),
                now,
            )
            for loan, m in zip(loans, migrations, strict=True)
        ),
    )
    return loans


def _schedule_versions(loans, migrations, plans, actor) -> list[ScheduleVersion]:
    """Schedule v1 of each loan: COPY with reserved keys (PostgreSQL; no model values to
    prepare per row), else bulk_create."""
    versions = [
        ScheduleVersion(
            loan=loan,
            version=1,
            reason="Migrated",
            effective_date=m.as_of_date,
            regular_payment=plan.regular_payment,
            created_by=actor,
        )
        for loan, m, plan in zip(loans, migrations, plans, strict=True)
    ]
    ids = reserve_ids(ScheduleVersion, len(versions))
    if ids is None:
        return ScheduleVersion.objects.bulk_create(versions)
    now, actor_id = timezone.now(), getattr(actor, "pk", None)
    for version, pk in zip(versions, ids, strict=True):
        version.pk, version.created_at = pk, now
    copy_rows(
        ScheduleVersion,
        VERSION_COLUMNS,
        (
            (
                v.pk,
                v.loan_id,
                1,
                True,
                "Migrated",
                v.effective_date,
                v.regular_payment,
                actor_id,
                now,
            )
            for v in versions
        ),
    )
    return versions


VERSION_COLUMNS = (
    "id",
    "loan",
    "version",
    "is_current",
    "reason",
    "effective_date",
    "regular_payment",
    "created_by",
    "created_at",
)
INSTALLMENT_COLUMNS = (
    "schedule",
    "loan",
    "number",
    "due_date",
    "principal_due",
    "interest_due",
    "fee_due",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "cancelled",
    "principal_true_up",
    "interest_true_up",
    "status",
    "paid_on",
)


def _installment(version: ScheduleVersion, row) -> tuple:
    """An installment's values in INSTALLMENT_COLUMNS order."""
    inst, true_up, paid = row
    principal = inst.principal + true_up
    return (
        version.pk,
        version.loan_id,
        inst.number,
        inst.due_date,
        principal,
        inst.interest,
        ZERO,
        principal if paid else ZERO,
        inst.interest if paid else ZERO,
        ZERO,
        ZERO,
        true_up,
        ZERO,
        Installment.Status.PAID.value if paid else Installment.Status.UPCOMING.value,
        inst.due_date if paid else None,
    )


def _installment_line(values: Sequence) -> str:
    """`_installment`'s values as a COPY text line: ints, dates, Decimals and a status code
    (no character COPY escapes); only `paid_on` may be NULL."""
    *rest, paid_on = values
    return "\t".join(map(str, rest)) + ("\t\\N" if paid_on is None else f"\t{paid_on}")


def _open_balances(
    loans: list[Loan],
    migrations: Sequence[LoanMigration],
    *,
    business_date: date,
    acting_user,
    save: bool,
) -> list[Fee]:
    """Post the opening entries (one per loan, one more per loan with fees); return the open
    fees to write once the loans exist. `save=False`: the loans' cached balances are set in
    memory only (the caller inserts the loans afterwards)."""
    specs: list[EntrySpec] = []
    fee_specs: list[tuple[Loan, LoanMigration, EntrySpec]] = []
    for loan, m in zip(loans, migrations, strict=True):
        opening = m.principal_outstanding + m.interest_accrued
        specs.append(
            EntrySpec(
                entry_type=EntryType.MIGRATION,
                effective_date=m.as_of_date,
                loan_id=loan.pk,
                reference=loan.application_ref,
                memo=f"Opening balances of {loan.loan_number} migrated as of {m.as_of_date}",
                lines=[
                    dr(Account.PRINCIPAL, m.principal_outstanding),
                    dr(Account.INTEREST, m.interest_accrued),
                    cr(Account.MIGRATION, opening),
                ],
            ).nonzero()
        )
        if m.fees_outstanding > 0:
            spec = EntrySpec(
                entry_type=EntryType.FEE,
                effective_date=m.as_of_date,
                loan_id=loan.pk,
                reference=loan.application_ref,
                memo=f"Fees outstanding of {loan.loan_number} migrated as of {m.as_of_date}",
                lines=[
                    dr(Account.FEES, m.fees_outstanding),
                    cr(Account.MIGRATION, m.fees_outstanding),
                ],
            )
            specs.append(spec)
            fee_specs.append((loan, m, spec))
    journal_post_many(
        entries=specs,
        business_date=business_date,
        acting_user=acting_user,
        loans=loans,
        save_loans=save,
        copy_lines=True,
    )
    return [
        Fee(
            loan=loan,
            kind=Fee.Kind.MANUAL,
            amount=m.fees_outstanding,
            assessed_on=m.as_of_date,
            reason="Fees outstanding at migration",
            entry=spec.created,
            created_by=acting_user,
        )
        for loan, m, spec in fee_specs
    ]
