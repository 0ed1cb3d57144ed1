"""The servicing factories build valid rows through the services, traits included."""

from __future__ import annotations

from decimal import Decimal

from servicing.models import LoanEvent

from .factories import LoanFactory, PaymentFactory


def test_a_loan_factory_boards_through_the_service(borrower, business_date):
    loan = LoanFactory(borrower=borrower, principal="2400.00", n_periods=24)

    assert loan.principal_balance == Decimal("2400.00")
    assert loan.installments.count() == 24
    assert (loan.delinquent, loan.in_hardship, loan.non_accrual) == (False, False, False)


def test_the_flag_traits_are_set_by_loan_flags_set(borrower, business_date):
    loan = LoanFactory(borrower=borrower, delinquent=True, non_accrual=True)

    loan.refresh_from_db()
    assert (loan.delinquent, loan.in_hardship, loan.non_accrual) == (True, False, True)
    assert loan.events.filter(kind=LoanEvent.Kind.FLAG).count() == 1


def test_a_payment_factory_posts_through_the_service(loan):
    payment = PaymentFactory(loan=loan, amount=Decimal("50.00"))

    assert payment.pk is not None
    assert payment.alloc_fees + payment.alloc_interest + payment.alloc_principal == Decimal("50.00")
