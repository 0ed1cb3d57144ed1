"""The loan as of a past date (servicing/loan_as_of.py, `GET /api/v1/loans/{id}/?as_of=`): a
scripted month's recorded state at each close of business is what `?as_of=` answers later."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicing.calculations import installment_status
from servicing.cob.runner import cob_close_through
from servicing.models import Installment, Loan
from servicing.services import fee_assess, payment_post, payment_reverse

from .factories import LoanFactory

START = date(2026, 1, 1)
LAST = date(2026, 2, 14)
MONEY_FIELDS = ("principal_balance", "interest_balance", "fees_balance", "credit_balance")
AS_OF_MONEY = {
    "principal_balance": "principal_outstanding",
    "interest_balance": "interest_receivable",
    "fees_balance": "fees_receivable",
    "credit_balance": "credit_balance",
}
INSTALLMENT_FIELDS = (
    "number",
    "due_date",
    "principal_due",
    "interest_due",
    "fee_due",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "cancelled",
    "status",
)


def _url(loan: Loan, as_of: date | str | None = None) -> str:
    return f"/api/v1/loans/{loan.pk}/" + (f"?as_of={as_of}" if as_of is not None else "")


def _recorded(client, loan: Loan, day: date) -> dict:
    """The loan's state at the close of `day`, as the live API and loan row show it then."""
    body = client.get(_url(loan)).json()
    schedule = client.get(f"/api/v1/loans/{loan.pk}/schedule/").json()["installments"]
    row = Loan.objects.get(pk=loan.pk)
    return {
        "status": body["status"],
        **{AS_OF_MONEY[name]: body[name] for name in MONEY_FIELDS},
        # close of business's own figures for the day it closed
        "dpd": row.dpd,
        "delinquency_bucket": row.delinquency_bucket,
        "schedule": [
            {
                **{name: inst[name] for name in INSTALLMENT_FIELDS if name != "status"},
                "status": installment_status(
                    remaining=Decimal(inst["remaining"]),
                    total_paid=Decimal(inst["principal_paid"])
                    + Decimal(inst["interest_paid"])
                    + Decimal(inst["fee_paid"]),
                    due_date=date.fromisoformat(inst["due_date"]),
                    on=day,
                    grace_days=row.late_fee_grace_days,
                ),
            }
            for inst in schedule
        ],
    }


def _as_of(client, loan: Loan, day: date) -> dict:
    response = client.get(_url(loan, day))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["as_of"] == day.isoformat()
    return {
        "status": body["status"],
        **{name: body[name] for name in AS_OF_MONEY.values()},
        "dpd": body["dpd"],
        "delinquency_bucket": body["delinquency_bucket"],
        "schedule": [
            {name: inst[name] for name in INSTALLMENT_FIELDS} for inst in body["schedule"]
        ],
    }


def _installment_total(loan: Loan, number: int) -> Decimal:
    inst = Installment.objects.get(loan=loan, schedule__is_current=True, number=number)
    return inst.remaining


@pytest.fixture
def month(borrower, business_date, servicing_agent, admin_user, staff_api_client):
    """A biweekly loan through 45 business days: paid on time, missed and late-fee'd, paid
    partly then in full, that payment returned (reversed), a manual fee, and 20.00 ahead
    of an installment; the loan's state
    recorded at the close of each day."""
    loan = LoanFactory(borrower=borrower, frequency="biweekly", n_periods=26, grace_days=3)
    client = staff_api_client(servicing_agent)
    recorded: dict[date, dict] = {}
    returned = None
    day = START
    while day <= LAST:
        if day == date(2026, 1, 15):  # on time, in full
            amount = _installment_total(loan, 1)
            payment_post(loan=loan, amount=amount, method="ach", acting_user=servicing_agent)
        elif day == date(2026, 1, 20):  # something ahead of the next installment
            payment_post(
                loan=loan, amount=Decimal("20.00"), method="ach", acting_user=servicing_agent
            )
        elif day == date(2026, 2, 3):  # late and partial
            amount = (_installment_total(loan, 2) / 2).quantize(Decimal("0.01"))
            payment_post(loan=loan, amount=amount, method="ach", acting_user=servicing_agent)
        elif day == date(2026, 2, 5):  # the rest, and the late fee
            loan.refresh_from_db()
            amount = _installment_total(loan, 2) + loan.fees_balance
            returned = payment_post(
                loan=loan, amount=amount, method="ach", acting_user=servicing_agent
            )
        elif day == date(2026, 2, 9):  # that payment comes back
            assert returned is not None
            payment_reverse(payment=returned, reason="R01", acting_user=servicing_agent)
        elif day == date(2026, 2, 11):
            fee_assess(
                loan=loan,
                kind="manual",
                amount=Decimal("5.00"),
                reason="statement copy",
                acting_user=admin_user,
            )
        cob_close_through(through=day)
        loan.refresh_from_db()
        recorded[day] = _recorded(client, loan, day)
        day += timedelta(days=1)
    return loan, client, recorded


def test_as_of_every_day_of_a_scripted_month_is_what_was_recorded_that_day(month):
    loan, client, recorded = month
    states = {(r["dpd"] > 0, r["fees_receivable"] != "0.00") for r in recorded.values()}
    assert {(True, True), (False, False)} <= states  # the script went late, fee'd and current
    statuses = {i["status"] for r in recorded.values() for i in r["schedule"]}
    assert {"paid", "partially_paid", "overdue", "due", "upcoming"} <= statuses

    mismatches = {
        day: (state, _as_of(client, loan, day))
        for day, state in recorded.items()
        if _as_of(client, loan, day) != state
    }

    assert not mismatches, mismatches
    # the returned payment counts until the day it came back (as the books stood then)
    paid = _as_of(client, loan, date(2026, 2, 6))
    returned = _as_of(client, loan, date(2026, 2, 9))
    assert (paid["dpd"], paid["schedule"][1]["status"]) == (0, "paid")
    assert returned["dpd"] > 0
    assert returned["schedule"][1]["status"] == "overdue"


def _queries(client, loan: Loan, day: date) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url(loan, day)).status_code == 200
    return len(queries)


def test_the_as_of_view_costs_the_same_queries_after_ten_days_or_three_hundred(
    borrower, business_date, servicing_agent, staff_api_client
):
    loan = LoanFactory(borrower=borrower)
    client = staff_api_client(servicing_agent)
    cob_close_through(through=START + timedelta(days=10))
    client.get(_url(loan))  # the user's permissions, cached from then on
    short = _queries(client, loan, START + timedelta(days=5))
    payment_post(loan=loan, amount=Decimal("106.62"), method="ach", acting_user=servicing_agent)
    cob_close_through(through=START + timedelta(days=300))
    long = _queries(client, loan, START + timedelta(days=290))
    assert long == short


@pytest.mark.parametrize(
    ("as_of", "why"),
    [
        ("2026-13-01", "date"),
        ("20260110", "YYYY-MM-DD"),
        ("", "date"),
        ("2026-01-03", "business date"),
        ("2025-12-31", "disbursement"),
    ],
)
def test_a_bad_as_of_is_a_400_naming_it(
    borrower, business_date, servicing_agent, staff_api_client, as_of, why
):
    loan = LoanFactory(borrower=borrower)
    business_date(date(2026, 1, 2))
    response = staff_api_client(servicing_agent).get(_url(loan, as_of))
    assert response.status_code == 400
    body = response.json()
    assert "as_of" in str(body), body
    assert why.lower() in str(body).lower(), body


def test_as_of_given_twice_is_a_400(borrower, business_date, servicing_agent, staff_api_client):
    loan = LoanFactory(borrower=borrower)
    response = staff_api_client(servicing_agent).get(
        f"{_url(loan)}?as_of=2026-01-01&as_of=2026-01-01"
    )
    assert response.status_code == 400
    assert "as_of" in str(response.json())


def test_without_as_of_the_answer_is_the_loan_today(
    borrower, business_date, servicing_agent, staff_api_client
):
    loan = LoanFactory(borrower=borrower)
    body = staff_api_client(servicing_agent).get(_url(loan)).json()
    assert "payoff_today" in body
    assert "as_of" not in body


def test_a_borrower_reads_only_their_own_loan_as_of(
    borrower, other_borrower, business_date, api_client
):
    loan = LoanFactory(borrower=borrower)
    api_client.force_authenticate(other_borrower.user)
    assert api_client.get(_url(loan, "2026-01-01")).status_code == 404
    api_client.force_authenticate(borrower.user)
    assert api_client.get(_url(loan, "2026-01-01")).status_code == 200
