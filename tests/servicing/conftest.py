"""Servicing fixtures: a business date, boarded loans, and the ledger check at teardown."""

from __future__ import annotations

from datetime import date

import pytest

from servicing.ledger import ledger_problems
from servicing.services import business_date_set

from .factories import LoanFactory


@pytest.fixture(autouse=True)
def _ledger_reconciles(db):
    """Every servicing scenario must leave a sound ledger (`ledger_check` semantics)."""
    yield
    problems = ledger_problems()
    assert not problems, "ledger_check failed:\n" + "\n".join(problems)


@pytest.fixture
def business_date(db):
    """Set the business date: `business_date(date(2026, 1, 15))`; starts at 2026-01-01."""

    def _set(on: date) -> date:
        business_date_set(business_date=on, acting_user=None)
        return on

    _set(date(2026, 1, 1))
    return _set


@pytest.fixture
def loan(borrower, business_date):
    """A 12-month 1,200.00 daily-simple loan at 12 % (ACT/365F) disbursed 2026-01-01."""
    return LoanFactory(borrower=borrower)


@pytest.fixture
def scheduled_loan(borrower, business_date):
    return LoanFactory(borrower=borrower, interest_model="scheduled", application_ref="APP-S")
