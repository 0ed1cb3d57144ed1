from datetime import date, timedelta
from decimal import Decimal

import pytest

from servicing.models import Loan
from servicing.services import accrue_interest, payment_post

from .factories import board_loan


@pytest.fixture
def agent_client(staff_api_client, servicing_agent):
    return staff_api_client(servicing_agent)


def test_business_date_get_and_put(agent_client, admin_user, staff_api_client, business_date):
    assert agent_client.get("/api/v1/business-date/").json() == {"business_date": "2026-01-01"}
    denied = agent_client.put(
        "/api/v1/business-date/", {"business_date": "2026-01-02"}, format="json"
    )
    assert denied.status_code == 403

    admin = staff_api_client(admin_user)
    ok = admin.put("/api/v1/business-date/", {"business_date": "2026-01-02"}, format="json")
    assert ok.status_code == 200
    assert ok.json() == {"business_date": "2026-01-02"}
    bad = admin.put("/api/v1/business-date/", {"business_date": "2026-13-02"}, format="json")
    assert bad.status_code == 400
    assert "business_date" in bad.json()["extra"]["fields"]


def test_loan_detail_fields(agent_client, loan, business_date):
    business_date(date(2026, 1, 11))
    accrue_interest([loan.pk], date(2026, 1, 10))

    body = agent_client.get(f"/api/v1/loans/{loan.pk}/").json()

    assert body["loan_number"] == loan.loan_number
    assert body["status"] == "active"
    assert body["principal_balance"] == "1200.00"
    assert body["interest_balance"] == "3.55"
    assert body["fees_balance"] == "0.00"
    assert body["credit_balance"] == "0.00"
    assert body["total_due"] == "1203.55"
    assert body["payoff_today"] == "1203.95"  # one more day accrues through today
    assert body["dpd"] == 0
    assert body["next_due_date"] == "2026-02-01"
    assert body["next_due_amount"] == "106.59"


def test_late_loan_has_dpd(agent_client, loan, business_date):
    business_date(date(2026, 2, 11))
    body = agent_client.get(f"/api/v1/loans/{loan.pk}/").json()
    assert body["dpd"] == 10
    assert body["next_due_date"] == "2026-03-01"
    assert Decimal(body["next_due_amount"]) == Decimal("106.59") * 2


def test_loan_list_filters_and_constant_queries(
    agent_client, borrower, other_borrower, business_date, django_assert_num_queries
):
    for i in range(3):
        board_loan(borrower=borrower, product_code="AUTO" if i else "PERSONAL")
    board_loan(borrower=other_borrower, interest_model="scheduled")
    business_date(date(2026, 2, 11))
    paid = board_loan(borrower=other_borrower, disbursed_on=date(2026, 2, 1))
    payment_post(
        loan=paid,
        amount=Decimal("2000.00"),
        effective_date=date(2026, 2, 11),
        method="ach",
        acting_user=None,
        allow_credit=True,
    )

    agent_client.get("/api/v1/loans/")  # warm the user's permission cache
    # business date, count, page (balances and due amounts annotated), scheduled periods
    with django_assert_num_queries(4):
        body = agent_client.get("/api/v1/loans/").json()
    assert body["count"] == 5
    for _ in range(5):
        board_loan(
            borrower=other_borrower,
            interest_model="scheduled",
            product_code="OTHER",
            disbursed_on=date(2026, 2, 1),
        )
    with django_assert_num_queries(4):
        assert agent_client.get("/api/v1/loans/").json()["count"] == 10

    def numbers(query):
        return sorted(
            row["loan_number"]
            for row in agent_client.get(f"/api/v1/loans/?{query}").json()["results"]
        )

    assert len(numbers("product=AUTO")) == 2
    assert numbers("status=paid_off") == [paid.loan_number]
    assert len(numbers(f"borrower={borrower.pk}")) == 3
    assert len(numbers("dpd_min=5")) == 4
    assert len(numbers("dpd_min=11")) == 0
    assert len(numbers("dpd_max=5")) == 6
    assert len(numbers("delinquent=false")) == 10
    bad = agent_client.get("/api/v1/loans/?status=nope")
    assert bad.status_code == 400
    assert "status" in bad.json()["extra"]["fields"]


def test_loan_list_search_matches_every_word(agent_client, borrower, other_borrower):
    # given a loan of Carol Clark's and one of Dave Diaz's
    carol = board_loan(borrower=borrower)
    dave = board_loan(borrower=other_borrower)

    def numbers(q):
        response = agent_client.get("/api/v1/loans/", {"q": q})
        return {row["loan_number"] for row in response.json()["results"]}

    # then each word matches the loan number, a name or the e-mail (servicing.filters)
    assert numbers("dave diaz") == {dave.loan_number}
    assert numbers("carol@example") == {carol.loan_number}
    assert numbers("example.com") == {carol.loan_number, dave.loan_number}
    assert numbers(f"{carol.loan_number} clark") == {carol.loan_number}
    assert numbers("carol diaz") == set()


def test_borrower_sees_only_own_loans(api_client, borrower, other_borrower, business_date):
    mine = board_loan(borrower=borrower)
    theirs = board_loan(borrower=other_borrower)
    api_client.force_authenticate(borrower.user)

    listed = api_client.get("/api/v1/loans/").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert api_client.get(f"/api/v1/loans/{mine.pk}/").status_code == 200
    for suffix in ("", "schedule/", "transactions/", "payoff-quote/", "statements/"):
        assert api_client.get(f"/api/v1/loans/{theirs.pk}/{suffix}").status_code == 404
    assert api_client.get(f"/api/v1/loans/{mine.pk}/journal/").status_code == 403


def test_anonymous_is_refused(api_client, loan):
    # session authentication comes first in the settings: DRF answers 403, not 401
    response = api_client.get("/api/v1/loans/")
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_schedule_transactions_journal(agent_client, loan, business_date):
    business_date(date(2026, 2, 1))
    payment_post(
        loan=loan,
        amount=Decimal("106.62"),
        effective_date=date(2026, 2, 1),
        method="debit_card",
        acting_user=None,
    )
    schedule = agent_client.get(f"/api/v1/loans/{loan.pk}/schedule/").json()
    assert schedule["version"] == 1
    assert len(schedule["installments"]) == 12
    assert schedule["installments"][0]["status"] == "paid"
    assert schedule["installments"][1]["status"] == "upcoming"

    transactions = agent_client.get(f"/api/v1/loans/{loan.pk}/transactions/").json()["results"]
    assert transactions[0]["kind"] == "payment"
    assert transactions[0]["allocation"]["interest"] == "12.23"

    journal = agent_client.get(f"/api/v1/loans/{loan.pk}/journal/").json()
    types = {row["entry_type"] for row in journal["results"]}
    assert {"disbursement", "accrual", "payment"} <= types
    for row in journal["results"]:
        debit = sum(Decimal(line["debit"]) for line in row["lines"])
        credit = sum(Decimal(line["credit"]) for line in row["lines"])
        assert debit == credit


def test_loan_detail_is_constant_in_history(
    agent_client, loan, business_date, django_assert_num_queries
):
    agent_client.get(f"/api/v1/loans/{loan.pk}/")  # warm the user's permission cache
    # business date, the loan with its balances and due amounts annotated, business date
    with django_assert_num_queries(3):
        agent_client.get(f"/api/v1/loans/{loan.pk}/")
    business_date(date(2026, 12, 31))
    accrue_interest([loan.pk], date(2026, 12, 31))  # a year of daily accrual history
    with django_assert_num_queries(3):
        agent_client.get(f"/api/v1/loans/{loan.pk}/")
    assert Loan.objects.get(pk=loan.pk).last_accrual_date == date(2026, 12, 31)


def test_schedule_statuses_follow_the_business_date(agent_client, loan, business_date):
    # by close of business's rule: due from the due date, overdue after the grace days
    grace = loan.late_fee_grace_days
    assert grace > 0

    def statuses(on):
        business_date(on)
        rows = agent_client.get(f"/api/v1/loans/{loan.pk}/schedule/").json()["installments"]
        return [r["status"] for r in rows[:2]]

    assert statuses(date(2026, 1, 31)) == ["upcoming", "upcoming"]
    assert statuses(date(2026, 2, 1)) == ["due", "upcoming"]
    assert statuses(date(2026, 2, 1) + timedelta(days=grace)) == ["due", "upcoming"]
    assert statuses(date(2026, 2, 2) + timedelta(days=grace)) == ["overdue", "upcoming"]
