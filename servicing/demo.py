"""Demo data for this app, loaded by `manage.py seed_demo` after the demo users. Idempotent.

A book of ten loans with a history: every loan is boarded through `loan_board` on one date
`DEMO_HISTORY_DAYS` before today, then the business date is walked forward a day at a time
to today, each day's demo payments posted through `payment_post` and the day closed by the
real close of business (`cob_close_through`: accrual, installment transitions, late fees,
reminders, statements, days past due and buckets, charge-off candidates, and the other
apps' steps, e.g. collections' cases and dunning). Nothing about a loan's delinquency is
written by hand, so the dashboard, the loan pages and the collections queues agree.

The loans stop paying after a number of installments; monthly installments from the common
boarding date put them in every delinquency bucket of the default `COB_DELINQUENCY_BUCKETS`
(current, 1-29, 30-59, 60-89, 90-119, 120+; a loan that never paid is past the charge-off
candidate threshold of 120 days), besides a loan paid ahead, one charged off (requested by
the servicing agent, approved by the admin), one paid off and one paying by autopay.

Other apps act on the same history through their `demo.on_demo_day` hooks
(`lendcore.core.demo_registry.demo_day_hooks`), called each day before it is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from lendcore.accounts.models import Borrower
from lendcore.core.demo_registry import demo_day_hooks
from lendcore.finance.schedule import LoanTerms

from . import services
from .autopay import autopay_enrol
from .cob.runner import cob_close_through
from .models import AutopayEnrolment, BusinessDate, CobRun, Installment, Loan
from .selectors import business_date_get, loan_dpd
from .types import LateFeePolicy, LoanBoarding

# How far back the demo loans were disbursed: enough for a loan that never paid to be
# past 120 days (its first installment fell due a month after disbursement).
DEMO_HISTORY_DAYS = 170
# The charged-off loan is charged off this many days before today.
CHARGE_OFF_DAYS_AGO = 5
# The paid-off loan is paid off this many days after disbursement.
PAYOFF_AFTER_DAYS = 45


def _boarding(principal: str, rate: str, n: int, start: date, model: str) -> LoanBoarding:
    return LoanBoarding(
        terms=LoanTerms(
            principal=Decimal(principal),
            annual_rate=Decimal(rate),
            n_periods=n,
            frequency="monthly",
            disbursement_date=start,
            day_count="ACT/365F" if model == "daily_simple" else "30/360",
        ),
        product_code="PERSONAL" if model == "daily_simple" else "AUTO",
        product_name="Personal loan" if model == "daily_simple" else "Auto loan",
        interest_model=model,
        origination_fee=Decimal("50.00"),
        late_fee=LateFeePolicy(kind="flat", amount=Decimal("15.00"), grace_days=10),
        nsf_fee=Decimal("25.00"),
    )


@dataclass(frozen=True)
class DemoLoan:
    ref: str
    borrower: str
    condition: str
    principal: str
    rate: str
    n: int
    model: str = "daily_simple"
    # installments paid on their due dates, from the first (None: every one)
    pays: int | None = None


# The book (refs are a contract: collections' demo works these loans' cases). The
# delinquent loans' days past due today, with the boarding date 170 days back: ~139 (never
# paid), ~108 (paid 1), ~78 (paid 2), ~47 (paid 3), ~17 (paid 4).
DEMO_LOANS = (
    DemoLoan("DEMO-LOAN-1", "alice", "current, autopay", "5000.00", "0.1199", 24),
    DemoLoan("DEMO-LOAN-2", "alice", "paid ahead", "12000.00", "0.069", 36, "scheduled"),
    DemoLoan("DEMO-LOAN-3", "bob", "120+ days, charge-off candidate", "3000.00", "0.1599", 12,
             pays=0),
    DemoLoan("DEMO-LOAN-4", "bob", "charged off", "2000.00", "0.1899", 12, pays=0),
    DemoLoan("DEMO-LOAN-5", "alice", "paid off", "1500.00", "0.0999", 12, pays=0),
    DemoLoan("DEMO-LOAN-6", "alice", "90-119 days", "4000.00", "0.1299", 24, pays=1),
    DemoLoan("DEMO-LOAN-7", "bob", "60-89 days", "2500.00", "0.1499", 18, pays=2),
    DemoLoan("DEMO-LOAN-8", "alice", "30-59 days", "6000.00", "0.0899", 36, "scheduled",
             pays=3),
    DemoLoan("DEMO-LOAN-9", "bob", "1-29 days", "3500.00", "0.1399", 24, pays=4),
    DemoLoan("DEMO-LOAN-10", "alice", "hardship plan", "8000.00", "0.1099", 48, pays=4),
)  # fmt: skip
PAID_AHEAD = "DEMO-LOAN-2"
PREPAYMENT = Decimal("3000.00")
CHARGED_OFF = "DEMO-LOAN-4"
PAID_OFF = "DEMO-LOAN-5"
AUTOPAY = "DEMO-LOAN-1"

# The business date and demo loans come before the other apps' demo data.
DEMO_ORDER = 10


def seed_demo() -> list[str]:
    """Create this app's demo rows; return a line per thing created."""

    lines: list[str] = []
    if not BusinessDate.objects.exists():
        services.business_date_set(business_date=timezone.localdate(), acting_user=None)
        lines.append(f"Business date set to {business_date_get()}")
    today = business_date_get()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["servicing_agent", "admin"])
    }
    agent, admin = users.get("servicing_agent"), users.get("admin")
    borrowers = {b.user.username: b for b in Borrower.objects.select_related("user") if b.user}
    if any(name not in borrowers for name in ("alice", "bob")) or agent is None or admin is None:
        return [*lines, "Servicing demo skipped: demo users are missing."]
    if Loan.objects.filter(application_ref__in=[d.ref for d in DEMO_LOANS]).exists():
        return [*lines, *_autopay_demo()]
    start = today - timedelta(days=DEMO_HISTORY_DAYS)
    if CobRun.objects.filter(business_date__gte=start).exists():
        return [
            *lines,
            "Servicing demo skipped: close of business has already run over the demo's "
            f"history (since {start.isoformat()}); seed the demo on a fresh database.",
        ]

    services.business_date_set(business_date=start, acting_user=None)
    loans: dict[str, Loan] = {}
    for demo in DEMO_LOANS:
        loans[demo.ref] = services.loan_board(
            boarding=_boarding(demo.principal, demo.rate, demo.n, start, demo.model),
            borrower=borrowers[demo.borrower],
            application_ref=demo.ref,
            disbursed_on=start,
            method="ach",
            reference=f"{demo.ref}-DISB",
            acting_user=admin,
        )
    # The days each loan pays its installments (the number paid so far on each).
    paying: dict[date, list[tuple[Loan, int]]] = {}
    for demo in DEMO_LOANS:
        due = Installment.objects.filter(
            loan=loans[demo.ref], schedule__is_current=True, due_date__lt=today
        )
        for number, due_date in due.order_by("number").values_list("number", "due_date"):
            if demo.pays is None or number <= demo.pays:
                paying.setdefault(due_date, []).append((loans[demo.ref], number))
    hooks = demo_day_hooks()
    day = start
    while day < today:
        for loan, number in paying.get(day, []):
            _pay_installment(loan, number, day, agent)
        if day == start + timedelta(days=PAYOFF_AFTER_DAYS):
            loan = loans[PAID_OFF]
            quote = services.payoff_quote(loan=loan, on=day)
            _pay(loan, quote.payoff_amount, day, agent)
        if day == today - timedelta(days=CHARGE_OFF_DAYS_AGO):
            loan = Loan.objects.get(pk=loans[CHARGED_OFF].pk)
            services.charge_off_request(
                loan=loan, reason="Demo: borrower unreachable", acting_user=agent
            )
            services.charge_off_decide(loan=loan, approve=True, reason="Demo", acting_user=admin)
        for hook in hooks:
            lines += hook(day=day, today=today)
        results = cob_close_through(through=day, trigger="demo")
        if not results or results[-1][1] == "failed":
            run = results[-1][2] if results else None
            raise RuntimeError(f"Demo close of business failed on {day}: {run and run.error}")
        day += timedelta(days=1)
    for demo in DEMO_LOANS:
        loan = Loan.objects.get(pk=loans[demo.ref].pk)
        lines.append(
            f"Demo loan {loan.loan_number} ({demo.condition}; {loan.status}, "
            f"{loan_dpd(loan)} days past due, bucket {loan.delinquency_bucket})"
        )
    lines.append(
        f"Close of business ran for each day from {start.isoformat()} to "
        f"{(today - timedelta(days=1)).isoformat()}; the business date is {business_date_get()}"
    )
    return [*lines, *_autopay_demo()]


def _pay(loan: Loan, amount: Decimal, day: date, agent) -> None:
    services.payment_post(
        loan=Loan.objects.get(pk=loan.pk),
        amount=amount,
        effective_date=day,
        method="ach",
        reference=f"DEMO-{loan.application_ref}-{day.isoformat()}",
        acting_user=agent,
    )


def _pay_installment(loan: Loan, number: int, day: date, agent) -> None:
    """The installment as billed (what is left of it), plus the paid-ahead loan's
    prepayment on its first due date."""
    inst = Installment.objects.get(loan=loan, number=number, schedule__is_current=True)
    amount = inst.remaining
    if loan.application_ref == PAID_AHEAD and number == 1:
        amount += PREPAYMENT
    if amount > 0:
        _pay(loan, amount, day, agent)


def _autopay_demo() -> list[str]:
    """The current demo loan pays by autopay from today (sandbox rail; account ...6789
    settles)."""

    loan = Loan.objects.filter(application_ref=AUTOPAY).first()
    if loan is None or AutopayEnrolment.objects.filter(loan=loan, active=True).exists():
        return []
    autopay_enrol(loan=loan, account_number="000123456789", routing_number="021000021")
    return [f"Autopay: {loan.loan_number} pays from the account ending 6789 (sandbox rail)"]
