"""Property tests over whole loan lives: what a lender checks, not only that the ledger balances.

Hypothesis draws loans over every day-count basis, interest model, amortization and frequency
(rates 0-36 %, terms 1-360, odd first periods, payment rounding) and event streams (payments
on time, late, partial, early, backdated and reversed; fees and waivers; modifications;
charge-off and recovery; closes of business), then checks after each life:

- `ledger_check` finds nothing (every entry balances, the cached balances equal the ledger,
  no closed loan holds interest in suspense);
- nothing is negative: balances, installment amounts, what an installment still bills, fees;
- a loan that owes nothing is closed, and a closed loan holds nothing in suspense;
- a loan whose every installment was paid as billed by its due date (or within its grace
  days) is paid off at zero and was never charged a late fee;
- interest accrued over a period at a constant balance is balance x rate x the basis's year
  fraction of the period, within a cent, through the services and through close of business.

Close of business here closes the example's own loan (`close_range` over its id: the steps a
partition runs), so that examples share no nightly run. Examples per property: the
LENDCORE_LIFE_EXAMPLES environment variable (default 20; CI sets more, see .ci/run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st

from lendcore.finance.daycount import BASES, is_last_of_february, year_fraction
from lendcore.finance.money import round_money
from lendcore.finance.schedule import PAYMENTS_PER_YEAR
from servicing import selectors
from servicing.cob.runner import close_range
from servicing.cob.steps import StepClock
from servicing.errors import LoanStateConflict, ServicingValidationError
from servicing.ledger import ledger_problems, loan_suspense_balance
from servicing.models import Fee, Installment, Loan, Payment
from servicing.services import (
    accrue_interest,
    business_date_set,
    charge_off_decide,
    charge_off_request,
    credit_refund,
    fee_assess,
    fee_waive,
    loan_modify,
    payment_post,
    payment_reverse,
)

from .factories import board_loan

ZERO = Decimal("0.00")
ONE_DAY = timedelta(days=1)
D0 = date(2026, 1, 1)
EXAMPLES = int(os.environ.get("LENDCORE_LIFE_EXAMPLES", "20"))
LIFE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FREQUENCY_DAYS = {f: 365 // n for f, n in PAYMENTS_PER_YEAR.items()}


# --------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Terms:
    principal: Decimal
    annual_rate: Decimal
    n_periods: int
    frequency: str
    day_count: str
    interest_model: str
    amortization: str
    payment_rounding: str
    first_due_offset: int  # days added to (or taken from) the regular first due date
    disbursed_on: date

    def board(self, borrower) -> Loan:
        first_due = None
        if self.first_due_offset:
            regular = self.disbursed_on + timedelta(days=FREQUENCY_DAYS[self.frequency])
            first_due = max(
                regular + timedelta(days=self.first_due_offset), self.disbursed_on + ONE_DAY
            )
        return board_loan(
            borrower=borrower,
            principal=str(self.principal),
            annual_rate=str(self.annual_rate),
            n_periods=self.n_periods,
            frequency=self.frequency,
            day_count=self.day_count,
            interest_model=self.interest_model,
            amortization=self.amortization,
            payment_rounding=self.payment_rounding,
            first_due_date=first_due,
            disbursed_on=self.disbursed_on,
        )


def terms(*, max_days: int) -> st.SearchStrategy[Terms]:
    """Loans whose life lasts at most about `max_days` days."""

    @st.composite
    def build(draw) -> Terms:
        frequency = draw(st.sampled_from(sorted(PAYMENTS_PER_YEAR)))
        longest = max(1, min(360, max_days // FREQUENCY_DAYS[frequency]))
        n_periods = draw(st.one_of(st.integers(1, min(longest, 24)), st.integers(1, longest)))
        return Terms(
            principal=draw(st.decimals(Decimal("100.00"), Decimal("500000.00"), places=2)),
            annual_rate=draw(st.decimals(Decimal("0"), Decimal("0.36"), places=4)),
            n_periods=n_periods,
            frequency=frequency,
            day_count=draw(st.sampled_from(BASES)),
            interest_model=draw(st.sampled_from(["daily_simple", "scheduled"])),
            amortization=draw(
                st.sampled_from(["level", "level", "equal_principal", "interest_only"])
            ),
            payment_rounding=draw(st.sampled_from(["0.01", "0.01", "0.01", "1.00"])),
            first_due_offset=draw(st.sampled_from([0, 0, -5, 7, 19])),
            disbursed_on=D0 + timedelta(days=draw(st.integers(0, 30))),
        )

    return build()


# --------------------------------------------------------------------------- the checks


def assert_sound(loan: Loan) -> None:
    """What holds after any life, whatever happened in it."""
    assert ledger_problems() == []
    loan = Loan.objects.get(pk=loan.pk)
    balances = (loan.principal_balance, loan.interest_balance, loan.fees_balance)
    assert min(*balances, loan.credit_balance) >= ZERO
    for inst in Installment.objects.filter(loan=loan):
        amounts = (inst.principal_due, inst.interest_due, inst.principal_paid, inst.interest_paid)
        assert min(amounts) >= ZERO, inst
        assert inst.remaining >= ZERO, inst
    for fee in Fee.objects.filter(loan=loan):
        assert fee.outstanding >= ZERO
    if loan.status == Loan.Status.ACTIVE:
        assert sum(balances) > ZERO, "a loan owing nothing is closed"
    else:
        assert loan_suspense_balance(loan.pk) == ZERO


def close_of_business(loan: Loan, through: date) -> None:
    """The nightly steps for this loan through `through` (every lagging day in order)."""
    with transaction.atomic():
        close_range(lo=loan.pk, hi=loan.pk, business_date=through, clock=StepClock())


def billed(loan: Loan, number: int, on: date) -> Decimal:
    rows = {
        i.number: i for i in selectors.loan_schedule_rows(loan=Loan.objects.get(pk=loan.pk), on=on)
    }
    return max(rows[number].remaining, ZERO)


# --------------------------------------------------------------------------- paid as billed


@LIFE
@given(
    loan_terms=terms(max_days=3700),
    days_late=st.sampled_from([0, 0, 0, 3, 10]),
    with_cob=st.booleans(),
)
def test_a_loan_paid_as_billed_closes_at_zero_without_a_late_fee(
    borrower, loan_terms, days_late, with_cob
):
    # Given any loan (close of business each night of short lives)
    note(f"{loan_terms} days_late={days_late} cob={with_cob}")
    business_date_set(business_date=loan_terms.disbursed_on, acting_user=None)
    loan = loan_terms.board(borrower)
    cob = with_cob and loan.maturity_date - loan.disbursed_on <= timedelta(days=400)
    if cob:
        close_of_business(loan, loan.disbursed_on)
    # When every installment is paid what the schedule bills for it, on its due date or
    # within its grace days
    for number in range(1, loan.n_periods + 1):
        loan = Loan.objects.get(pk=loan.pk)
        if loan.status != Loan.Status.ACTIVE:
            break
        inst = Installment.objects.get(loan=loan, schedule__is_current=True, number=number)
        on = inst.due_date + timedelta(days=days_late)
        business_date_set(business_date=on, acting_user=None)
        if cob:
            close_of_business(loan, on - ONE_DAY)
        amount = billed(loan, number, on)
        if amount > 0:
            payment_post(
                loan=loan, amount=amount, effective_date=on, method="ach", acting_user=None
            )
    if cob:
        close_of_business(loan, selectors.business_date_get())
    # Then it is paid off at zero, never charged a late fee, and no credit is left when it
    # was paid on the due dates
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == Loan.Status.PAID_OFF, loan_terms
    assert (loan.principal_balance, loan.interest_balance, loan.fees_balance) == (ZERO,) * 3
    assert not Fee.objects.filter(loan=loan, kind=Fee.Kind.LATE, reversed_on__isnull=True)
    if days_late == 0:
        assert loan.credit_balance == ZERO
    assert_sound(loan)


# --------------------------------------------------------------------------- any life

# Weighted by repetition: a life is mostly payments; a payoff or a charge-off ends it.
ACTIONS = (
    *("pay_billed",) * 3,
    *("pay_partial",) * 2,
    "pay_extra",
    *("pay_backdated",) * 2,
    "payoff",
    *("reverse",) * 2,
    *("fee",) * 2,
    "waive",
    "modify",
    "charge_off",
    "recover",
    "refund",
    *("cob",) * 3,
)


@LIFE
# Lives that failed once (tests/servicing/test_loan_life_findings.py replays each): the final
# installment's cancelled interest billed again after a reversal.
@example(
    loan_terms=Terms(
        principal=Decimal("3034.22"),
        annual_rate=Decimal("0.0010"),
        n_periods=10,
        frequency="biweekly",
        day_count="ACT/ACT-ISDA",
        interest_model="scheduled",
        amortization="level",
        payment_rounding="0.01",
        first_due_offset=0,
        disbursed_on=D0,
    ),
    events=[
        (0, "pay_billed", Decimal("0.07")),
        (0, "pay_backdated", Decimal("0.65")),
        (30, "pay_extra", Decimal("0.43")),
        (39, "pay_backdated", Decimal("0.55")),
        (39, "cob", Decimal("0.30")),
        (30, "fee", Decimal("0.02")),
        (6, "cob", Decimal("0.23")),
        (25, "reverse", Decimal("0.56")),
        (13, "reverse", Decimal("0.47")),
        (0, "cob", Decimal("0.82")),
        (36, "pay_billed", Decimal("0.25")),
    ],
)
@given(
    loan_terms=terms(max_days=400),
    events=st.lists(
        st.tuples(
            st.integers(0, 40),  # days after the previous event
            st.sampled_from(ACTIONS),
            st.decimals(Decimal("0.01"), Decimal("1"), places=2),  # a share of something
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_any_life_keeps_the_books_sound(borrower, servicing_agent, admin_user, loan_terms, events):
    note(f"{loan_terms} {events}")
    business_date_set(business_date=loan_terms.disbursed_on, acting_user=None)
    loan = loan_terms.board(borrower)
    today = loan.disbursed_on
    for gap, action, share in events:
        today += timedelta(days=gap)
        business_date_set(business_date=today, acting_user=None)
        try:
            _act(loan, action, share, today, servicing_agent, admin_user)
            event(f"{action} done")
        except (ServicingValidationError, LoanStateConflict):
            event(f"{action} refused")  # with a clear error, changing nothing: an outcome too
        assert_sound(loan)
    event(f"ended {Loan.objects.get(pk=loan.pk).status}")


def _act(loan, action, share, today, agent, admin) -> None:
    loan = Loan.objects.get(pk=loan.pk)
    owed = loan.principal_balance + loan.interest_balance + loan.fees_balance
    if action == "cob":
        close_of_business(loan, today)
    elif action in ("pay_billed", "pay_partial", "pay_extra", "payoff", "pay_backdated"):
        on = today
        if action == "pay_backdated":
            on = max(loan.disbursed_on, today - timedelta(days=int(share * 25)))
        amount = {
            "pay_billed": selectors.loan_balances(loan, on=today).next_due_amount,
            "pay_partial": round_money(owed * share * Decimal("0.2")),
            "pay_extra": round_money(owed * share),
            "payoff": selectors.loan_balances(loan, on=today).payoff_today,
            "pay_backdated": round_money(owed * share * Decimal("0.3")),
        }[action]
        if loan.status == Loan.Status.CHARGED_OFF:
            amount = round_money(Decimal("100") * share)
        if amount > 0:
            payment_post(
                loan=loan,
                amount=amount,
                effective_date=on,
                method="ach",
                acting_user=agent,
                allow_credit=action == "payoff",
            )
    elif action == "reverse":
        live = list(Payment.objects.filter(loan=loan, status=Payment.Status.POSTED))
        if live:
            payment = live[int(share * 100) % len(live)]
            payment_reverse(
                payment=payment, reason="returned", nsf=share > Decimal("0.5"), acting_user=agent
            )
    elif action == "fee":
        fee_assess(
            loan=loan,
            kind="manual",
            amount=round_money(Decimal("50") * share),
            reason="t",
            acting_user=agent,
        )
    elif action == "waive":
        fee = Fee.objects.filter(loan=loan).order_by("id").last()
        if fee is not None:
            fee_waive(fee=fee, amount=None, reason="goodwill", acting_user=agent)
    elif action == "modify":
        loan_modify(
            loan=loan,
            annual_rate_pct=(Decimal("36") * share).quantize(Decimal("0.01")),
            remaining_term=max(1, int(share * 24)),
            reason="hardship",
            acting_user=admin,
        )
    elif action == "charge_off":
        charge_off_request(loan=loan, reason="gone", acting_user=agent)
        charge_off_decide(loan=loan, approve=True, reason="ok", acting_user=admin)
    elif action == "recover":
        if loan.status == Loan.Status.CHARGED_OFF:
            payment_post(
                loan=loan,
                amount=round_money(Decimal("500") * share),
                method="ach",
                acting_user=agent,
                allow_credit=True,
            )
    elif action == "refund" and loan.credit_balance > 0:
        credit_refund(loan=loan, acting_user=agent)


# --------------------------------------------------------------------------- interest


def _additive(basis: str, start: date, end: date) -> bool:
    """Whether the basis's year fraction from `start` to `end` is a sum of days: always for
    the actual-day bases and 30E/360; the SIA rule (30/360) and the bond basis count an end on
    the 31st as 31 when the start is before the 30th, and the SIA rule counts the end of
    February as 28 or 29 unless the start is one too: no sum of days can follow those
    exceptions (servicing accrues a month as 30 days, as the schedule charges it)."""
    if basis in ("30/360", "30/360-BOND") and end.day == 31 and start.day < 30:
        return False
    return not (basis == "30/360" and is_last_of_february(end) and not is_last_of_february(start))


@LIFE
@given(
    basis=st.sampled_from(BASES),
    principal=st.decimals(Decimal("100.00"), Decimal("999999.99"), places=2),
    rate=st.decimals(Decimal("0.0001"), Decimal("0.36"), places=4),
    start_offset=st.integers(0, 400),
    days=st.integers(1, 400),
    through_cob=st.booleans(),
)
def test_interest_over_a_period_is_balance_times_rate_times_year_fraction(
    borrower, basis, principal, rate, start_offset, days, through_cob
):
    # Given a loan whose balance stays as disbursed (its first installment far enough away)
    start = D0 + timedelta(days=start_offset)
    end = start + timedelta(days=days)
    business_date_set(business_date=start, acting_user=None)
    loan = board_loan(
        borrower=borrower,
        principal=str(principal),
        annual_rate=str(rate),
        day_count=basis,
        disbursed_on=start,
        n_periods=1,
        frequency="annual",
        first_due_date=max(end, start + timedelta(days=365)),
    )
    # When interest accrues through `end`, by the services or by close of business
    business_date_set(business_date=end, acting_user=None)
    if through_cob:
        close_of_business(loan, start)
        close_of_business(loan, end)
    else:
        accrue_interest([loan.pk], end)
    accrued = Loan.objects.get(pk=loan.pk).interest_balance
    # Then it is balance x rate x year fraction within a cent
    if _additive(basis, start, end):
        expected = Fraction(principal) * Fraction(rate) * year_fraction(start, end, basis)
        assert abs(accrued - round_money(expected)) <= Decimal("0.01")
    assert_sound(loan)
