"""Demo data for this app, loaded by `manage.py seed_demo` after the demo users. Idempotent.

Five loans, one in each condition (current, paid ahead, late, charged off, paid off), boarded
through `loan_board` and serviced through the real services by walking the business date
through their history, then back to where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from lendcore.accounts.models import Borrower
from lendcore.finance.schedule import LoanTerms

from . import services
from .cob.autopay import autopay_enrol
from .models import AutopayEnrolment, BusinessDate, Loan
from .selectors import business_date_get
from .types import LateFeePolicy, LoanBoarding


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


# The business date and demo loans come before origination's demo applications.
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
    alice, bob = borrowers.get("alice"), borrowers.get("bob")
    if alice is None or bob is None or agent is None or admin is None:
        return [*lines, "Servicing demo skipped: demo users are missing."]

    start = today - timedelta(days=100)

    def at(day: date, action: Callable[[], object]) -> None:
        services.business_date_set(business_date=day, acting_user=None)
        action()

    def pay(loan: Loan, amount: str, day: date) -> None:
        at(
            day,
            lambda: services.payment_post(
                loan=loan,
                amount=Decimal(amount),
                effective_date=day,
                method="ach",
                reference=f"DEMO-{loan.application_ref}-{day.isoformat()}",
                acting_user=agent,
            ),
        )

    def board(ref: str, borrower, boarding: LoanBoarding) -> Loan | None:
        if Loan.objects.filter(application_ref=ref).exists():
            return None
        services.business_date_set(business_date=start, acting_user=None)
        return services.loan_board(
            boarding=boarding,
            borrower=borrower,
            application_ref=ref,
            disbursed_on=start,
            method="ach",
            reference=f"{ref}-DISB",
            acting_user=admin,
        )

    made: list[tuple[Loan, str]] = []
    try:
        # 1. current: every installment paid on its due date
        loan = board(
            "DEMO-LOAN-1", alice, _boarding("5000.00", "0.1199", 24, start, "daily_simple")
        )
        if loan:
            payment = loan.schedule_versions.get().regular_payment
            for inst in loan.installments.filter(due_date__lte=today).order_by("number"):
                pay(loan, str(payment), inst.due_date)
            made.append((loan, "current"))
        # 2. paid ahead: a large prepayment on the first due date, then regular payments
        loan = board("DEMO-LOAN-2", alice, _boarding("12000.00", "0.069", 36, start, "scheduled"))
        if loan:
            first = loan.installments.order_by("number").first()
            assert first is not None  # a boarded loan has its schedule
            pay(loan, "3000.00", first.due_date)
            made.append((loan, "paid ahead"))
        # 3. late: nothing paid since disbursement; late fees assessed
        loan = board("DEMO-LOAN-3", bob, _boarding("3000.00", "0.1599", 12, start, "daily_simple"))
        if loan:
            late = loan
            at(today, lambda: services.late_fees_assess(loan_ids=[late.pk], business_date=today))
            services.loan_flags_set(loan=loan, acting_user=agent, delinquent=True, reason="Demo")
            made.append((loan, "late"))
        # 4. charged off: requested by the agent, approved by the admin (four-eyes)
        loan = board("DEMO-LOAN-4", bob, _boarding("2000.00", "0.1899", 12, start, "daily_simple"))
        if loan:
            lost = loan
            at(
                today - timedelta(days=5),
                lambda: services.charge_off_request(
                    loan=lost, reason="Demo: borrower unreachable", acting_user=agent
                ),
            )
            services.charge_off_decide(loan=loan, approve=True, reason="Demo", acting_user=admin)
            made.append((loan, "charged off"))
        # 5. paid off: the payoff quote paid in full
        loan = board(
            "DEMO-LOAN-5", alice, _boarding("1500.00", "0.0999", 12, start, "daily_simple")
        )
        if loan:
            day = start + timedelta(days=45)
            services.business_date_set(business_date=day, acting_user=None)
            quote = services.payoff_quote(loan=loan, on=day)
            pay(loan, str(quote.payoff_amount), day)
            made.append((loan, "paid off"))
    finally:
        services.business_date_set(business_date=today, acting_user=None)
    open_ids = [loan.pk for loan, _ in made if loan.status == Loan.Status.ACTIVE]
    services.accrue_interest(open_ids, today)
    for loan, condition in made:
        loan.refresh_from_db()
        lines.append(f"Demo loan {loan.loan_number} ({condition}, {loan.status})")
    lines += _autopay_demo()
    return lines


def _autopay_demo() -> list[str]:
    """The current demo loan pays by autopay (sandbox rail; account ...6789 settles)."""

    loan = Loan.objects.filter(application_ref="DEMO-LOAN-1").first()
    if loan is None or AutopayEnrolment.objects.filter(loan=loan, active=True).exists():
        return []
    autopay_enrol(loan=loan, account_number="000123456789", routing_number="021000021")
    return [f"Autopay: {loan.loan_number} pays from the account ending 6789 (sandbox rail)"]
