"""Daily interest: computed per loan and day, written set-based (a constant number of queries).

A day's interest is `servicing.calculations.day_interest` (the one rule: `daily_simple`
charges the balance x rate x the day's share of a year under the loan's day count;
`scheduled` spreads the current installment's scheduled interest over its period). Each day
is kept exact to 6 places; the ledger gets whole cents with the remainder carried: after any
day, posted interest == round_money(cumulative exact accrual) (`calculations.posting`).
Non-accrual loans keep accruing the receivable but into suspense instead of income.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from lendcore.core.sqlrows import update_many
from lendcore.finance.money import ZERO, round_money

from .calculations import Period, day_interest, posting
from .ledger import EntrySpec, cr, dr, journal_post_many
from .models import Account, EntryType, Installment, InterestAccrual, Loan

ONE_DAY = timedelta(days=1)
ACCRUAL_FIELDS = ("accrued_interest_exact", "accrued_interest_posted", "last_accrual_date")


def loan_periods(loans: Sequence[Loan]) -> dict[int, list[Period]]:
    """The current schedule's periods of the `scheduled` loans, one query for all: each
    installment's scheduled interest (as billed before any true-up), less what a prepayment
    cancelled."""
    ids = [loan.pk for loan in loans if loan.interest_model == Loan.InterestModel.SCHEDULED]
    if not ids:
        return {}
    disbursed = {loan.pk: loan.disbursed_on for loan in loans}
    periods: dict[int, list[Period]] = {pk: [] for pk in ids}
    rows = (
        Installment.objects.filter(loan_id__in=ids, schedule__is_current=True)
        .order_by("loan_id", "number")
        .values_list("loan_id", "due_date", "interest_due", "interest_true_up", "cancelled")
    )
    for loan_id, due, interest, true_up, cancelled in rows:
        previous = periods[loan_id][-1].end if periods[loan_id] else disbursed[loan_id]
        periods[loan_id].append(Period(previous, due, max(ZERO, interest - true_up - cancelled)))
    return periods


def daily_interest_exact(loan: Loan, day: date, periods: Sequence[Period] | None) -> Decimal:
    """Interest for the day ending on `day` (from day - 1 to day), exact to 6 places."""
    return day_interest(
        interest_model=loan.interest_model,
        principal_balance=loan.principal_balance,
        annual_rate=loan.annual_rate,
        day_count=loan.day_count,
        day=day,
        periods=periods or (),
    )


def per_diem(loan: Loan, on: date, periods: list[Period] | None = None) -> Decimal:
    """One day's interest at `on` in cents (for payoff quotes)."""
    if loan.interest_model == Loan.InterestModel.SCHEDULED and periods is None:
        periods = loan_periods([loan]).get(loan.pk, [])
    return round_money(daily_interest_exact(loan, on + ONE_DAY, periods))


def projected_interest(
    loan: Loan, through: date, *, periods: list[Period] | None = None
) -> Decimal:
    """Interest that would post from the last accrual through `through` (no writes)."""
    if periods is None and loan.interest_model == Loan.InterestModel.SCHEDULED:
        periods = loan_periods([loan]).get(loan.pk, [])
    cumulative = loan.accrued_interest_exact
    day = loan.last_accrual_date + ONE_DAY
    while day <= through:
        cumulative += daily_interest_exact(loan, day, periods)
        day += ONE_DAY
    return round_money(cumulative) - loan.accrued_interest_posted


def accrue_loans(
    loans: Iterable[Loan], *, through: date, business_date: date, acting_user=None
) -> int:
    """Accrue each (locked, in-memory) loan from its last accrual date through `through`.

    Writes in bulk: one INSERT of entries, one of lines, one of accrual rows and one UPDATE
    of loans, whatever the number of loans and days. Returns the accrual rows written.
    """
    candidates = [
        loan
        for loan in loans
        if loan.status == Loan.Status.ACTIVE and loan.last_accrual_date < through
    ]
    if not candidates:
        return 0
    periods = loan_periods(candidates)
    specs: list[EntrySpec] = []
    rows: list[tuple[InterestAccrual, EntrySpec | None]] = []
    for loan in candidates:
        income = Account.SUSPENSE if loan.non_accrual else Account.INTEREST_INCOME
        loan_periods_ = periods.get(loan.pk)
        day = loan.last_accrual_date + ONE_DAY
        while day <= through:
            amount = daily_interest_exact(loan, day, loan_periods_)
            cumulative = loan.accrued_interest_exact + amount
            posted = posting(
                posted_before=loan.accrued_interest_posted, cumulative_exact=cumulative
            )
            target = loan.accrued_interest_posted + posted
            spec = None
            if posted > 0:
                spec = EntrySpec(
                    entry_type=EntryType.ACCRUAL,
                    effective_date=day,
                    lines=[dr(Account.INTEREST, posted), cr(income, posted)],
                    loan_id=loan.pk,
                    reference=loan.loan_number,
                    memo=f"Interest {day.isoformat()}",
                )
                specs.append(spec)
            row = InterestAccrual(
                loan_id=loan.pk,
                date=day,
                principal_base=loan.principal_balance,
                amount_exact=amount,
                cumulative_exact=cumulative,
                posted=posted,
                cumulative_posted=target,
                to_suspense=loan.non_accrual,
            )
            rows.append((row, spec))
            loan.accrued_interest_exact = cumulative
            if posted > 0:
                loan.accrued_interest_posted = target
            loan.last_accrual_date = day
            day += ONE_DAY
    journal_post_many(
        entries=specs, business_date=business_date, acting_user=acting_user, loans=candidates
    )
    accruals = []
    for row, spec in rows:
        if spec is not None and spec.created is not None:
            row.entry_id = spec.created.pk
        accruals.append(row)
    InterestAccrual.objects.bulk_create(accruals, batch_size=2000)
    update_many(candidates, ACCRUAL_FIELDS)
    return len(accruals)


def accrual_reversal_specs(accruals: Sequence[InterestAccrual], *, memo: str) -> list[EntrySpec]:
    """Reversing entries for a loan's accrual rows posted in entries shared with other loans
    (close of business: a day's receivable lines per loan, its income as one line per
    account). One entry a day, dated as the original: Dr income (or suspense), Cr interest
    receivable, for the loan's posted amounts; the memo names the original."""
    specs = []
    for row in accruals:
        if row.posted <= 0 or row.entry is None:
            continue
        income = Account.SUSPENSE if row.to_suspense else Account.INTEREST_INCOME
        specs.append(
            EntrySpec(
                entry_type=EntryType.REVERSAL,
                effective_date=row.date,
                lines=[dr(income, row.posted), cr(Account.INTEREST, row.posted)],
                loan_id=row.loan_id,
                reference=row.entry.reference,
                memo=f"{memo} (JE-{row.entry_id}, this loan's share)"[:255],
            )
        )
    return specs
