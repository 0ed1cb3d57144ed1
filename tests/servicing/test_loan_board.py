from datetime import date
from decimal import Decimal

import pytest

from servicing.errors import LoanStateConflict
from servicing.models import Account, Installment, JournalLine, Loan, ScheduleVersion

from .factories import board_loan, boarding_for


def test_board_creates_loan_schedule_and_disbursement(borrower, business_date):
    loan = board_loan(borrower=borrower, application_ref="APP-1", origination_fee="50.00")

    assert loan.loan_number == f"LN-{loan.pk:06d}"
    assert loan.status == Loan.Status.ACTIVE
    assert loan.principal_balance == Decimal("1200.00")
    version = ScheduleVersion.objects.get(loan=loan)
    assert version.is_current
    assert version.version == 1
    installments = Installment.objects.filter(schedule=version)
    assert installments.count() == 12
    assert sum(i.principal_due for i in installments) == Decimal("1200.00")
    lines = {
        line.account: (line.debit, line.credit) for line in JournalLine.objects.filter(loan=loan)
    }
    assert lines[Account.PRINCIPAL] == (Decimal("1200.00"), Decimal("0.00"))
    assert lines[Account.CASH] == (Decimal("0.00"), Decimal("1150.00"))
    assert lines[Account.FEE_INCOME] == (Decimal("0.00"), Decimal("50.00"))


def test_board_is_idempotent_on_application_ref(borrower, business_date):
    first = board_loan(borrower=borrower, application_ref="APP-1")
    again = board_loan(borrower=borrower, application_ref="APP-1")

    assert again.pk == first.pk
    assert Loan.objects.count() == 1
    assert JournalLine.objects.count() == 2


def test_board_same_ref_different_terms_conflicts(borrower, business_date):
    board_loan(borrower=borrower, application_ref="APP-1")

    with pytest.raises(LoanStateConflict):
        board_loan(borrower=borrower, application_ref="APP-1", principal="999.00")
    assert Loan.objects.count() == 1


def test_boarding_terms_snapshot(borrower, business_date):
    boarding = boarding_for(day_count="ACT/365.25", interest_model="scheduled")
    loan = board_loan(borrower=borrower, day_count="ACT/365.25", interest_model="scheduled")

    assert loan.day_count == "ACT/365.25"
    assert loan.interest_model == "scheduled"
    assert loan.terms["principal"] == "1200.00"
    assert loan.first_due_date == date(2026, 2, 1)
    assert loan.allocation_order == list(boarding.allocation_order)
