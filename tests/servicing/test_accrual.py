import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lendcore.finance.money import round_money
from servicing.models import Account, InterestAccrual, JournalLine, Loan
from servicing.services import accrue_interest, loan_flags_set, payment_post

from .factories import board_loan

VECTORS = Path(__file__).resolve().parents[1] / "finance" / "vectors" / "finance.json"
BASES = {"365.25": "ACT/365.25", "365": "ACT/365F"}


def _accrual_cases():
    cases = json.loads(VECTORS.read_text())
    return [c for c in cases if c["kind"] == "accrual"]


@pytest.mark.parametrize("case", _accrual_cases(), ids=lambda c: c["id"])
def test_accrual_vectors_through_a_real_loan(case, borrower, business_date, servicing_agent):
    # Given a daily-simple loan boarded on the case's principal, rate and day basis
    inputs, expected = case["inputs"], case["expected"]
    start = date(2026, 3, 1)
    business_date(start)
    loan = board_loan(
        borrower=borrower,
        principal=inputs["principal"],
        annual_rate=inputs["annual_rate"],
        day_count=BASES[str(inputs["day_basis"])],
        disbursed_on=start,
        n_periods=1,  # one installment: the whole payment is a regular payment
    )
    days = inputs["days"]
    pay_day = start + timedelta(days=days)
    # When the days accrue (nightly) and the payment arrives on the last one
    business_date(pay_day)
    accrue_interest([loan.pk], pay_day - timedelta(days=1))
    payment = payment_post(
        loan=loan,
        amount=Decimal(inputs["payment"]),
        effective_date=pay_day,
        method="ach",
        acting_user=servicing_agent,
    )
    # Then the split is the published one, to the cent
    rows = InterestAccrual.objects.filter(loan=loan, reversed=False).order_by("date")
    assert rows.count() == days
    assert round_money(rows.first().amount_exact, 4) == Decimal(expected["daily_interest"])
    accrued = expected.get("accrued_interest") or expected["interest_31_days"]
    assert payment.alloc_interest == Decimal(accrued)
    assert payment.alloc_principal + payment.alloc_excess == Decimal(expected["to_principal"])
    loan.refresh_from_db()
    if "new_balance" in expected:
        assert loan.principal_balance == Decimal(expected["new_balance"])
    assert loan.principal_balance == Decimal(inputs["principal"]) - Decimal(
        expected["to_principal"]
    )


def test_posted_interest_always_equals_rounded_exact_accrual(borrower, business_date):
    loan = board_loan(borrower=borrower, principal="1000.00", annual_rate="0.0725")
    for day in range(1, 40):
        accrue_interest([loan.pk], date(2026, 1, 1) + timedelta(days=day))
        loan.refresh_from_db()
        assert loan.accrued_interest_posted == round_money(loan.accrued_interest_exact)
        assert loan.interest_balance == loan.accrued_interest_posted


def test_accrual_is_idempotent_per_loan_and_date(loan):
    accrue_interest([loan.pk], date(2026, 1, 10))
    accrue_interest([loan.pk], date(2026, 1, 10))
    accrue_interest([loan.pk], date(2026, 1, 5))

    assert InterestAccrual.objects.filter(loan=loan).count() == 9
    loan.refresh_from_db()
    assert loan.last_accrual_date == date(2026, 1, 10)


def test_accrue_interest_is_set_based(borrower, business_date, django_assert_max_num_queries):
    loans = [board_loan(borrower=borrower) for _ in range(30)]
    # a constant number of queries for 30 loans x 5 days
    with django_assert_max_num_queries(12):
        written = accrue_interest([loan.pk for loan in loans], date(2026, 1, 6))
    assert written == 150
    assert JournalLine.objects.filter(account=Account.INTEREST_INCOME).count() == 150


def test_scheduled_interest_recognised_over_the_period(scheduled_loan):
    first = scheduled_loan.installments.order_by("number").first()
    accrue_interest([scheduled_loan.pk], first.due_date)

    scheduled_loan.refresh_from_db()
    assert scheduled_loan.interest_balance == first.interest_due


def test_non_accrual_loan_accrues_to_suspense_not_income(loan):
    loan_flags_set(loan=loan, acting_user=None, non_accrual=True, reason="90 dpd")
    accrue_interest([loan.pk], date(2026, 1, 11))

    assert not JournalLine.objects.filter(loan=loan, account=Account.INTEREST_INCOME).exists()
    assert JournalLine.objects.filter(loan=loan, account=Account.SUSPENSE).exists()


def test_closed_loans_do_not_accrue(loan):
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.PAID_OFF)
    assert accrue_interest([loan.pk], date(2026, 1, 11)) == 0


def test_scheduled_recognition_sums_to_each_period_exactly(borrower, business_date):
    loan = board_loan(borrower=borrower, interest_model="scheduled", principal="997.00")
    installments = list(loan.installments.order_by("number")[:6])
    accrue_interest([loan.pk], installments[-1].due_date)

    loan.refresh_from_db()
    assert loan.interest_balance == sum(i.interest_due for i in installments)
