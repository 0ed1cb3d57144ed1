"""The staff loan list and loan page: who may see them, filters, search, query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from servicing.services import payment_post
from tests.servicing.factories import board_loan


def test_loan_list_needs_login(client, db):
    response = client.get("/staff/loans/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["servicing_agent", "collector", "admin_user"])
def test_loan_list_and_page_render_for_servicing_roles(request, signed_in, loan, role):
    client = signed_in(request.getfixturevalue(role))

    listing = client.get("/staff/loans/")
    page = client.get(f"/staff/loans/{loan.pk}/")

    assert listing.status_code == 200
    assert loan.loan_number in listing.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    for heading in ("Balances", "Schedule", "Transactions", "Journal", "Statements", "Timeline"):
        assert heading in html


@pytest.mark.parametrize("role", ["loan_officer", "underwriter"])
def test_roles_without_servicing_get_403(request, signed_in, loan, role):
    client = signed_in(request.getfixturevalue(role))

    assert client.get("/staff/loans/").status_code == 403
    assert client.get(f"/staff/loans/{loan.pk}/").status_code == 403


def test_borrowers_get_403_on_staff_pages(signed_in, borrower, loan):
    client = signed_in(borrower.user)

    assert client.get("/staff/loans/").status_code == 403
    assert client.get(f"/staff/loans/{loan.pk}/").status_code == 403
    assert client.get(f"/staff/loans/{loan.pk}/journal/").status_code == 403


def test_unknown_loan_is_404(signed_in, servicing_agent, db):
    assert signed_in(servicing_agent).get("/staff/loans/999999/").status_code == 404


def test_loan_page_shows_balances_and_schedule(signed_in, servicing_agent, loan):
    html = signed_in(servicing_agent).get(f"/staff/loans/{loan.pk}/").content.decode()

    assert 'id="principal-balance">1,200.00<' in html
    assert 'id="dpd">0<' in html
    assert "Payoff today" in html
    assert html.count('<span class="badge badge-') >= 12  # one per installment at least
    assert "Disbursement" in html  # the journal's first entry


def test_action_forms_follow_permissions(signed_in, collector, servicing_agent, loan):
    collector_html = signed_in(collector).get(f"/staff/loans/{loan.pk}/").content.decode()
    agent_html = signed_in(servicing_agent).get(f"/staff/loans/{loan.pk}/").content.decode()

    assert "Post a payment" in collector_html
    assert "Assess a fee" not in collector_html  # collectors cannot manage fees
    assert "Assess a fee" in agent_html


class TestFilters:
    @pytest.fixture
    def book(self, borrower, other_borrower, business_date):
        """Three loans: Carol's current PERSONAL loan, Carol's AUTO loan paid on time, and
        Dave's PERSONAL loan 45 days late."""
        late = board_loan(
            borrower=other_borrower, application_ref="F-LATE", disbursed_on=date(2025, 12, 1)
        )
        current = board_loan(borrower=borrower, application_ref="F-CUR")
        auto = board_loan(borrower=borrower, application_ref="F-AUTO", product_code="AUTO")
        business_date(date(2026, 2, 15))
        payment_post(
            loan=auto,
            amount=Decimal("110.00"),
            effective_date=date(2026, 2, 1),
            method="ach",
            acting_user=None,
        )
        return {"late": late, "current": current, "auto": auto}

    def _numbers(self, client, query):
        html = client.get("/staff/loans/?" + query).content.decode()
        return {name for name, loan in self.loans.items() if loan.loan_number in html}

    @pytest.fixture(autouse=True)
    def _client(self, signed_in, servicing_agent, book):
        self.client = signed_in(servicing_agent)
        self.loans = book

    def test_by_product(self):
        assert self._numbers(self.client, "product=AUTO") == {"auto"}

    def test_by_dpd_bucket(self):
        # Dave's first installment fell due 2026-01-01: 45 days past due on 2026-02-15
        assert self._numbers(self.client, "dpd=30-59") == {"late"}
        assert self._numbers(self.client, "dpd=90%2B") == set()

    def test_by_status(self):
        assert self._numbers(self.client, "status=active") == {"late", "current", "auto"}
        assert self._numbers(self.client, "status=paid_off") == set()

    def test_search_by_borrower_name_and_loan_number(self):
        assert self._numbers(self.client, "q=dave+diaz") == {"late"}
        assert self._numbers(self.client, "q=carol") == {"current", "auto"}
        number = self.loans["auto"].loan_number
        assert self._numbers(self.client, f"q={number}") == {"auto"}

    def test_search_means_what_the_api_search_means(self):
        # every word must match the loan number, a name or the e-mail (servicing.filters)
        assert self._numbers(self.client, "q=dave%40example") == {"late"}
        assert self._numbers(self.client, "q=example.com+clark") == {"current", "auto"}
        assert self._numbers(self.client, "q=carol+diaz") == set()

    def test_bad_filter_is_shown_not_a_500(self):
        response = self.client.get("/staff/loans/?status=bogus")
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()


def test_loan_list_query_count_does_not_grow_with_loans(
    signed_in, servicing_agent, borrower, business_date, django_assert_num_queries
):
    client = signed_in(servicing_agent)
    for n in range(3):
        board_loan(borrower=borrower, application_ref=f"Q-{n}")
    board_loan(borrower=borrower, application_ref="Q-S", interest_model="scheduled")
    client.get("/staff/loans/")  # warm the session and permission caches of the user row

    with django_assert_num_queries(QUERIES):
        small = client.get("/staff/loans/")
    for n in range(20):
        board_loan(borrower=borrower, application_ref=f"Q-more-{n}", interest_model="scheduled")
    with django_assert_num_queries(QUERIES):
        large = client.get("/staff/loans/")

    assert small.status_code == large.status_code == 200


QUERIES = 9  # the user's permissions load in one query (accounts.selectors)


def test_loan_page_query_count_does_not_grow_with_history(
    signed_in, servicing_agent, loan, business_date
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(servicing_agent)
    url = f"/staff/loans/{loan.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as fresh:
        client.get(url)
    for month in range(2, 6):
        on = date(2026, month, 1)
        business_date(on)
        payment_post(
            loan=loan, amount=Decimal("106.62"), effective_date=on, method="ach", acting_user=None
        )
    with CaptureQueriesContext(connection) as seasoned:
        response = client.get(url)

    assert response.status_code == 200
    assert len(seasoned) == len(fresh)
