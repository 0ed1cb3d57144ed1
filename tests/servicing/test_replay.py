from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicing.errors import LoanStateConflict
from servicing.models import Installment, RailTransfer, ScheduleVersion
from servicing.services import (
    accrue_interest,
    business_date_set,
    loan_modify,
    payment_post,
    payment_reverse,
)

from .factories import board_loan
from .test_payment_post import _state, settings_window

D0 = date(2026, 1, 1)


def _pay(loan, amount, on):
    return payment_post(
        loan=loan, amount=Decimal(amount), effective_date=on, method="ach", acting_user=None
    )


def test_reversing_a_reamortizing_prepayment_restores_the_schedule(borrower, business_date):
    loan = board_loan(borrower=borrower, prepayment_option="reamortize")
    business_date(date(2026, 2, 1))
    payment = _pay(loan, "500.00", date(2026, 2, 1))
    assert ScheduleVersion.objects.get(loan=loan, is_current=True).version == 2

    payment_reverse(payment=payment, reason="returned", acting_user=None)

    current = ScheduleVersion.objects.get(loan=loan, is_current=True)
    assert current.version == 1
    assert not Installment.objects.filter(schedule=current).exclude(principal_paid=0).exists()
    loan.refresh_from_db()
    assert loan.principal_balance == Decimal("1200.00")


def test_scheduled_loan_paid_on_due_date_pays_the_scheduled_split(scheduled_loan, business_date):
    first = scheduled_loan.installments.order_by("number").first()
    business_date(first.due_date)
    payment = _pay(scheduled_loan, str(first.total_due), first.due_date)

    assert payment.alloc_interest == first.interest_due
    assert payment.alloc_principal == first.principal_due
    first.refresh_from_db()
    assert first.status == "paid"


def test_no_backdating_before_a_modification(loan, business_date, servicing_agent):
    business_date(date(2026, 1, 20))
    loan_modify(loan=loan, remaining_term=24, reason="hardship", acting_user=servicing_agent)
    with pytest.raises(LoanStateConflict):
        _pay(loan, "10.00", date(2026, 1, 19))
    assert _pay(loan, "10.00", date(2026, 1, 20)).status == "posted"


def test_borrower_cannot_backdate(api_client, borrower, business_date):
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 1, 20))
    api_client.force_authenticate(borrower.user)
    response = api_client.post(
        f"/api/v1/loans/{loan.pk}/payments/",
        {
            "amount": "10.00",
            "method": "debit_card",
            "account_number": "4111111111111111",
            "effective_date": "2026-01-10",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["effective_date"]
    assert not RailTransfer.objects.exists()


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payments=st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("1.00"), max_value=Decimal("200.00"), places=2),
            st.integers(min_value=1, max_value=60),
        ),
        min_size=2,
        max_size=5,
    ),
    data=st.data(),
)
def test_a_reversed_payment_ends_as_if_never_posted(borrower, payments, data):
    """Reversal replays: the loan ends as if the reversed payment had never been posted."""
    victim = data.draw(st.integers(min_value=0, max_value=len(payments) - 1))
    end = D0 + timedelta(days=60)
    business_date_set(business_date=end, acting_user=None)
    with settings_window():
        loan = board_loan(borrower=borrower)
        posted = [_pay(loan, amount, D0 + timedelta(days=day)) for amount, day in payments]
        payment_reverse(payment=posted[victim], reason="returned", acting_user=None)
        accrue_interest([loan.pk], end)

        other = board_loan(borrower=borrower)
        for index, (amount, day) in enumerate(payments):
            if index != victim:
                _pay(other, amount, D0 + timedelta(days=day))
        accrue_interest([other.pk], end)

    assert _state(loan) == _state(other)
