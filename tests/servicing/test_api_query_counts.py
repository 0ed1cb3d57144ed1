"""Query counts of the servicing API's list and detail endpoints, pinned: each answers in a
fixed number of queries however long the loan's history (no N+1).

Each count is taken after one warm-up request (the user's permission cache), then again
after more history (payments, fees, statements, a second loan) was added.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from servicing.fees import fee_assess
from servicing.services import payment_post
from servicing.statements import statement_generate

from .factories import board_loan


def _history(loan, *, payments: int, fees: int, statements: list[date]) -> None:
    for n in range(payments):
        payment_post(
            loan=loan,
            amount=Decimal("20.00"),
            effective_date=date(2026, 2, 1),
            method="check",
            reference=f"chk-{loan.pk}-{n}-{payments}",
            acting_user=None,
        )
    for n in range(fees):
        fee_assess(
            loan=loan, kind="manual", amount=Decimal("5.00"), reason=f"fee {n}", acting_user=None
        )
    for period_end in statements:
        statement_generate(loan=loan, period_end=period_end)


@pytest.fixture
def book(borrower, business_date):
    business_date(date(2026, 2, 1))
    loan = board_loan(borrower=borrower, disbursed_on=date(2026, 1, 1))
    _history(loan, payments=1, fees=1, statements=[date(2026, 1, 31)])
    return loan


def _grow(loan, borrower):
    _history(loan, payments=3, fees=3, statements=[date(2026, 2, 1)])
    board_loan(borrower=borrower, application_ref="QC-2", disbursed_on=date(2026, 1, 1))


# endpoint (after /api/v1/loans/{id}/), queries as staff
STAFF_ENDPOINTS = [
    ("", 3),
    ("schedule/", 4),
    ("transactions/", 5),
    ("journal/", 5),
    ("payments/", 3),
    ("fees/", 4),
    ("statements/", 3),
    ("pending-payments/", 4),
    ("payoff-quote/", 4),
]


@pytest.mark.parametrize(("suffix", "queries"), STAFF_ENDPOINTS)
def test_staff_loan_endpoints_are_constant(
    staff_api_client, servicing_agent, borrower, book, django_assert_num_queries, suffix, queries
):
    client = staff_api_client(servicing_agent)
    url = f"/api/v1/loans/{book.pk}/{suffix}"
    assert client.get(url).status_code == 200  # warm the user's permission cache

    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    _grow(book, borrower)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


# a borrower's requests cost what a staff member's do: the loan read joins the borrower
# row that limits it to their own loans (`loan_access`), no query of its own
BORROWER_ENDPOINTS = [
    ("", 3),
    ("schedule/", 4),
    ("transactions/", 5),
    ("payments/", 3),
    ("fees/", 4),
    ("statements/", 3),
]


@pytest.mark.parametrize(("suffix", "queries"), BORROWER_ENDPOINTS)
def test_borrower_loan_endpoints_are_constant(
    api_client, borrower, book, django_assert_num_queries, suffix, queries
):
    api_client.force_authenticate(borrower.user)
    url = f"/api/v1/loans/{book.pk}/{suffix}"
    assert api_client.get(url).status_code == 200

    with django_assert_num_queries(queries):
        assert api_client.get(url).status_code == 200
    _grow(book, borrower)
    with django_assert_num_queries(queries):
        assert api_client.get(url).status_code == 200


def test_borrower_loan_list_is_constant(api_client, borrower, book, django_assert_num_queries):
    api_client.force_authenticate(borrower.user)
    api_client.get("/api/v1/loans/")

    with django_assert_num_queries(4):
        assert api_client.get("/api/v1/loans/").json()["count"] == 1
    _grow(book, borrower)
    with django_assert_num_queries(4):
        assert api_client.get("/api/v1/loans/").json()["count"] == 2


def test_cob_runs_list_and_detail_are_constant(
    staff_api_client, admin_user, borrower, book, django_assert_num_queries
):
    client = staff_api_client(admin_user)
    first = client.post("/api/v1/cob-runs/", {}, format="json").json()
    client.get("/api/v1/cob-runs/")

    # count and page; the run, its partitions and its failures
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/cob-runs/").json()["results"]) == 1
    with django_assert_num_queries(3):
        assert client.get(f"/api/v1/cob-runs/{first['id']}/").status_code == 200
    _grow(book, borrower)
    second = client.post("/api/v1/cob-runs/", {}, format="json").json()
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/cob-runs/").json()["results"]) == 2
    with django_assert_num_queries(3):
        assert client.get(f"/api/v1/cob-runs/{second['id']}/").status_code == 200
