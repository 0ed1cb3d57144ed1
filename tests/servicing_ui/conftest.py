"""Fixtures for servicing's pages: a business date, boarded loans, clients signed in by role,
and the ledger check at teardown (every scenario must leave a sound ledger)."""

from __future__ import annotations

from datetime import date

import pytest

from servicing.ledger import ledger_problems
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

D0 = date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _ledger_reconciles(db):
    yield
    problems = ledger_problems()
    assert not problems, "ledger_check failed:\n" + "\n".join(problems)


@pytest.fixture
def business_date(db):
    """`business_date(date(...))` sets the lender's date; it starts at 2026-01-01."""

    def _set(on: date) -> date:
        business_date_set(business_date=on, acting_user=None)
        return on

    _set(D0)
    return _set


@pytest.fixture
def loan(borrower, business_date):
    """A 12-month 1,200.00 daily-simple loan at 12 % of Carol's, disbursed 2026-01-01,
    with the business date moved to 2026-02-01 (first installment due)."""
    made = board_loan(borrower=borrower, application_ref="UI-CAROL-1")
    business_date(date(2026, 2, 1))
    return made


@pytest.fixture
def other_loan(other_borrower, business_date):
    return board_loan(borrower=other_borrower, application_ref="UI-DAVE-1", principal="5000.00")


@pytest.fixture
def signed_in(client):
    """`signed_in(user)`: the Django test client logged in as that user."""

    def _as(user):
        client.force_login(user)
        return client

    return _as
