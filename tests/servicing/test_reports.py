"""Reports (lendcore.core.reports, servicing/reports.py, lendcore/web/reporting.py): the
figures of a small book worked out by hand, and the API and staff pages that serve them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from lendcore.core.reports import REPORT_NAMES, ReportFilters, report_get
from servicing.cob.runner import cob_close_through
from servicing.ledger import trial_balance as ledger_trial_balance
from servicing.models import InterestAccrual, JournalLine
from servicing.reports import JOURNAL_MAX_LINES
from servicing.services import payment_post

from .factories import LoanFactory

URL = "/api/v1/reports/{}/"
JAN_31 = date(2026, 1, 31)
FEB_10 = date(2026, 2, 10)
PAYMENT = Decimal("106.62")


@pytest.fixture
def book(borrower, business_date, servicing_agent):
    """Two 1,200.00 loans disbursed 2026-01-01 (products PERSONAL and AUTO), interest accrued
    to 2026-02-09, one payment of 106.62 on each, received 2026-02-01 (ACH) and 2026-02-05
    (cash)."""
    personal = LoanFactory(borrower=borrower, application_ref="APP-P")
    auto = LoanFactory(borrower=borrower, application_ref="APP-A", product_code="AUTO")
    cob_close_through(through=JAN_31)
    payment_post(loan=personal, amount=PAYMENT, method="ach", acting_user=servicing_agent)
    cob_close_through(through=date(2026, 2, 4))
    payment_post(loan=auto, amount=PAYMENT, method="cash", acting_user=servicing_agent)
    cob_close_through(through=FEB_10 - timedelta(days=1))
    return {"personal": personal, "auto": auto}


def _run(name: str, **filters):
    return report_get(name).build(ReportFilters(**filters))


def test_every_registered_report_is_one_of_the_contract_names():
    assert {spec for spec in REPORT_NAMES if report_get(spec)} >= {
        "trial_balance",
        "journal",
        "payments",
        "disbursements",
        "income",
    }


def test_trial_balance_is_the_ledgers_and_its_sides_agree(book):
    table = _run("trial_balance", date_from=FEB_10, date_to=FEB_10)

    rows = {row["account"]: row for row in table.rows}
    # by hand: 2,400.00 lent, 213.24 received; the rest is the ledger's own nets
    assert rows["1000"]["credit"] == Decimal("2400.00") - 2 * PAYMENT
    assert table.summary["total_debit"] == table.summary["total_credit"]
    for account, net in ledger_trial_balance().items():
        assert rows[account]["debit"] - rows[account]["credit"] == net


def test_trial_balance_as_of_a_past_date_and_of_one_product(book):
    january = _run("trial_balance", date_from=JAN_31, date_to=JAN_31)
    auto = _run("trial_balance", date_from=FEB_10, date_to=FEB_10, product="AUTO")

    before_payments = {row["account"]: row for row in january.rows}
    assert before_payments["1000"]["credit"] == Decimal("2400.00")
    assert before_payments["1100"]["debit"] == Decimal("2400.00")
    auto_rows = {row["account"]: row for row in auto.rows}
    assert auto_rows["1000"]["credit"] == Decimal("1200.00") - PAYMENT
    assert auto.summary["total_debit"] == auto.summary["total_credit"]


def test_payments_by_day_and_method(book):
    table = _run("payments", date_from=date(2026, 2, 1), date_to=FEB_10)

    assert [(r["date"], r["method"], r["payments"], r["amount"]) for r in table.rows] == [
        (date(2026, 2, 1), "ach", 1, PAYMENT),
        (date(2026, 2, 5), "cash", 1, PAYMENT),
    ]
    assert table.summary["total_amount"] == 2 * PAYMENT
    only_auto = _run("payments", date_from=date(2026, 2, 1), date_to=FEB_10, product="AUTO")
    assert [r["method"] for r in only_auto.rows] == ["cash"]


def test_disbursements_by_day_and_product(book):
    table = _run("disbursements", date_from=date(2026, 1, 1), date_to=FEB_10)

    assert [(r["date"], r["product"], r["loans"], r["principal"]) for r in table.rows] == [
        (date(2026, 1, 1), "AUTO", 1, Decimal("1200.00")),
        (date(2026, 1, 1), "PERSONAL", 1, Decimal("1200.00")),
    ]
    assert table.summary == {"loans": 2, "total_principal": Decimal("2400.00")}


def test_income_by_month_is_the_interest_accrued(book):
    table = _run("income", date_from=date(2026, 1, 1), date_to=FEB_10)

    january = table.rows[0]
    assert january["month"] == "2026-01"
    accrued = InterestAccrual.objects.filter(date__lte=JAN_31)
    days = accrued.values("date").distinct().count()
    assert january["interest_income"] == accrued.aggregate(s=Sum("posted"))["s"]
    # by hand: two loans of 1,200.00 at 12 % ACT/365F for `days` days, to the cent
    by_hand = 2 * Decimal("1200") * Decimal("0.12") * days / 365
    assert abs(january["interest_income"] - by_hand) <= Decimal("0.02")
    assert january["fee_income"] == Decimal("0.00")
    assert table.summary["total_income"] == sum(r["total_income"] for r in table.rows)


def test_journal_lists_the_windows_lines_with_their_totals(book):
    table = _run("journal", date_from=date(2026, 2, 1), date_to=date(2026, 2, 1))

    lines = JournalLine.objects.filter(entry__business_date=date(2026, 2, 1))
    assert table.summary["lines"] == lines.count() == len(table.rows)
    assert table.summary["total_debit"] == table.summary["total_credit"]
    assert table.summary["truncated"] is False
    assert JOURNAL_MAX_LINES >= 1000


# --------------------------------------------------------------------------- API


def test_api_trial_balance_contract(api_client, admin_user, book):
    api_client.force_authenticate(admin_user)

    body = api_client.get(URL.format("trial_balance"), {"to": "2026-02-10"}).json()

    assert body["report"] == "trial_balance"
    assert body["to"] == "2026-02-10"
    assert body["total_debit"] == body["total_credit"]
    assert {"account", "debit", "credit"} <= set(body["rows"][0])
    assert isinstance(body["total_debit"], str)  # money as a string with cents, never a float


def test_api_csv(api_client, admin_user, book):
    api_client.force_authenticate(admin_user)

    response = api_client.get(
        URL.format("payments"), {"from": "2026-02-01", "to": "2026-02-10", "format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Received on", "Method", "Payments"]
    assert rows[1][:4] == ["2026-02-01", "ach", "1", "106.62"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-10", "to": "2026-02-01"}, "from"),
        ({"to": "2026-02-11"}, "to"),  # after the business date
        ({"from": "20260201"}, "from"),
        ({"format": "xml"}, "format"),
        ({"product": ""}, "product"),
    ],
)
def test_api_refuses_a_bad_window_naming_the_field(
    api_client, admin_user, business_date, params, field
):
    business_date(FEB_10)
    api_client.force_authenticate(admin_user)

    response = api_client.get(URL.format("payments"), params)

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_api_journal_window_is_bounded(api_client, admin_user, business_date):
    business_date(FEB_10)
    api_client.force_authenticate(admin_user)

    response = api_client.get(URL.format("journal"), {"from": "2026-01-01", "to": "2026-02-10"})

    assert response.status_code == 400
    assert "At most 31 days" in response.json()["extra"]["fields"]["from"][0]


def test_api_roles(api_client, loan_officer, servicing_agent, borrower, business_date):
    api_client.force_authenticate(loan_officer)
    assert api_client.get(URL.format("disbursements")).status_code == 200
    assert api_client.get(URL.format("trial_balance")).status_code == 403
    assert api_client.get(URL.format("no_such_report")).status_code == 404
    api_client.force_authenticate(servicing_agent)
    assert api_client.get(URL.format("payments")).status_code == 200
    assert api_client.get(URL.format("income")).status_code == 403
    api_client.force_authenticate(borrower.user)
    assert api_client.get(URL.format("payments")).status_code == 403


# --------------------------------------------------------------------------- staff pages


def test_staff_index_lists_what_the_role_may_run(client, loan_officer, admin_user, business_date):
    client.force_login(loan_officer)
    officer = client.get("/staff/reports/").content.decode()
    client.force_login(admin_user)
    admin = client.get("/staff/reports/").content.decode()

    assert "/staff/reports/disbursements/" in officer
    assert "/staff/reports/trial_balance/" not in officer
    assert "/staff/reports/trial_balance/" in admin


def test_staff_report_page_chart_csv_and_pdf(client, admin_user, book):
    client.force_login(admin_user)
    window = {"date_from": "2026-02-01", "date_to": "2026-02-10"}

    page = client.get("/staff/reports/payments/", window)
    csv_file = client.get("/staff/reports/payments/", {**window, "format": "csv"})
    pdf = client.get("/staff/reports/payments/", {**window, "format": "pdf"})
    bad = client.get(
        "/staff/reports/payments/", {"date_from": "2026-02-10", "date_to": "2026-02-01"}
    )

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="report-chart-data"' in body
    assert "106.62" in body
    assert csv_file["Content-Type"] == "text/csv"
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert bad.status_code == 400
    assert "Must be on or before" in bad.content.decode()


def test_staff_report_page_refuses_reports_of_other_roles(client, loan_officer, business_date):
    client.force_login(loan_officer)

    assert client.get("/staff/reports/trial_balance/").status_code == 403
    assert client.get("/staff/reports/no_such_report/").status_code == 404
