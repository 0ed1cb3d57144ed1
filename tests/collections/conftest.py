"""Collections fixtures: collectors, a manager, a book of loans boarded on one date."""

from __future__ import annotations

from datetime import date

import pytest

from lendcore.accounts.roles import Role
from lendcore.accounts.services import staff_user_create
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

DISBURSED = date(2026, 1, 14)  # first installment due 2026-02-14
FIRST_DUE = date(2026, 2, 14)


@pytest.fixture
def collector2(roles):
    return staff_user_create(username="t_collector2", password="lendcore-demo", role=Role.COLLECTOR)


@pytest.fixture
def manager(roles):
    return staff_user_create(
        username="t_collections_manager", password="lendcore-demo", role=Role.COLLECTIONS_MANAGER
    )


@pytest.fixture
def board(borrower):
    """board(name) -> a loan disbursed on 2026-01-14 (the business date is left there)."""

    def _board(name: str, disbursed: date = DISBURSED):
        business_date_set(business_date=disbursed, acting_user=None)
        return board_loan(borrower=borrower, application_ref=f"COL-{name}", disbursed_on=disbursed)

    return _board


@pytest.fixture
def open_case(board, collector):
    """An open case of a loan 20 days past due, assigned to `collector` (business date set
    to 2026-03-06)."""
    from decimal import Decimal

    from collections_app.models import CollectionCase

    def _make(name: str = "work", **fields):
        loan = board(name)
        business_date_set(business_date=date(2026, 3, 6), acting_user=None)
        values = {
            "loan": loan,
            "status": "open",
            "opened_on": date(2026, 2, 15),
            "bucket": "1-29",
            "priority": Decimal("2000.00"),
            "amount_past_due": Decimal("100.00"),
            "dpd": 20,
            "assignee": collector,
            "reviewed_on": date(2026, 3, 6),
        } | fields
        return CollectionCase.objects.create(**values)

    return _make
