"""Roll rates and vintage curves (servicing/month_ends.py, servicing/reports_month_end.py):
the month-end rows close of business writes, equal to the ones rebuilt from the ledger, every
cell of a small book worked out by hand, and the API and staff page that serve them."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lendcore.core.reports import ReportFilters, report_get
from servicing.cob.runner import cob_close_through
from servicing.models import CobRun, Loan, LoanMonthEnd, RollRateCell, VintageCell
from servicing.month_ends import month_end_rebuild
from servicing.services import charge_off_decide, charge_off_request, payment_post

from .factories import LoanFactory

JAN, FEB, MAR = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
URL = "/api/v1/reports/{}/"
D = Decimal
ROLL_KEYS = ("month_end", "from_bucket", "to_state", "loans", "principal")
ROLL_KEYS += ("loan_share", "principal_share")
VINTAGE_KEYS = ("origination_month", "months_on_book", "loans", "originated", "charged_off")
VINTAGE_KEYS += ("charged_off_rate", "dpd30_principal", "dpd30_rate")


@pytest.fixture
def book(borrower, business_date, servicing_agent, admin_user):
    """Five loans of 1,200.00 at 0 % (twelve monthly installments of 100.00, all principal),
    closed through 2026-03-31:
    - `good` (PERSONAL, 2026-01-01) pays 100.00 on 01-31, 02-28 and 03-31: always current;
      principal 1,100.00 at January's end, 1,000.00 at February's;
    - `late` (PERSONAL, 2026-01-01) never pays: due 02-01, so 27 days past due at 02-28
      (1-29) and 58 at 03-31 (30-59);
    - `payoff` (AUTO, 2026-01-01) pays all it owes on 02-15 (with the late fee of 02-11):
      paid off;
    - `gone` (PERSONAL, 2026-01-01) never pays: 1-29 at 02-28, charged off on 03-10 (1,200.00
      principal written off);
    - `new` (PERSONAL, 2026-02-10) never pays: current at 02-28, 21 days past due at 03-31
      (due 03-10)."""
    terms = {"borrower": borrower, "annual_rate": "0.00"}
    loans = {
        "good": LoanFactory(application_ref="RV-GOOD", **terms),
        "late": LoanFactory(application_ref="RV-LATE", **terms),
        "payoff": LoanFactory(application_ref="RV-PAYOFF", product_code="AUTO", **terms),
        "gone": LoanFactory(application_ref="RV-GONE", **terms),
    }

    def pay(name: str, amount: str = "") -> None:
        loan = Loan.objects.get(pk=loans[name].pk)
        owed = loan.principal_balance + loan.interest_balance + loan.fees_balance
        payment_post(
            loan=loan,
            amount=D(amount) if amount else owed,
            method="ach",
            acting_user=servicing_agent,
        )

    cob_close_through(through=date(2026, 1, 30))
    pay("good", "100.00")
    cob_close_through(through=date(2026, 2, 9))
    loans["new"] = LoanFactory(application_ref="RV-NEW", disbursed_on=date(2026, 2, 10), **terms)
    cob_close_through(through=date(2026, 2, 14))
    pay("payoff")
    cob_close_through(through=date(2026, 2, 27))
    pay("good", "100.00")
    cob_close_through(through=date(2026, 3, 9))
    charge_off_request(loan=loans["gone"], reason="gone", acting_user=servicing_agent)
    charge_off_decide(loan=loans["gone"], approve=True, reason="ok", acting_user=admin_user)
    cob_close_through(through=date(2026, 3, 30))
    pay("good", "100.00")
    cob_close_through(through=MAR)
    return loans


def _loan_rows(day: date) -> set[tuple]:
    return set(
        LoanMonthEnd.objects.filter(month_end=day).values_list(
            "loan_id",
            "product_code",
            "disbursed_on",
            "principal_amount",
            "status",
            "bucket",
            "dpd",
            "principal",
            "charged_off_principal",
        )
    )


def _roll_cells(day: date) -> set[tuple]:
    return set(
        RollRateCell.objects.filter(month_end=day).values_list(
            "product_code", "from_bucket", "to_state", "loans", "principal"
        )
    )


def _vintage_cells(day: date) -> set[tuple]:
    return set(
        VintageCell.objects.filter(month_end=day).values_list(
            "product_code",
            "origination_month",
            "months_on_book",
            "loans",
            "originated",
            "charged_off",
            "dpd30_principal",
        )
    )


def _build(name: str, **filters):
    return report_get(name).build(ReportFilters(**filters))


# One book per test costs some ninety closes of business: each test checks several things.


def test_month_end_cells_by_hand_rebuilt_and_backfilled(book):
    assert set(LoanMonthEnd.objects.values_list("month_end", flat=True)) == {JAN, FEB, MAR}
    assert CobRun.objects.get(business_date=MAR).steps["month_end"]["count"] == 5
    assert "month_end" not in CobRun.objects.get(business_date=date(2026, 3, 30)).steps
    assert _roll_cells(JAN) == set()  # no month end before it
    assert _roll_cells(FEB) == {
        ("PERSONAL", "current", "current", 1, D("1100.00")),
        ("PERSONAL", "current", "1-29", 2, D("2400.00")),
        ("AUTO", "current", "paid_off", 1, D("1200.00")),
    }
    assert _roll_cells(MAR) == {
        ("PERSONAL", "current", "current", 1, D("1000.00")),
        ("PERSONAL", "current", "1-29", 1, D("1200.00")),  # `new`
        ("PERSONAL", "1-29", "30-59", 1, D("1200.00")),
        ("PERSONAL", "1-29", "charged_off", 1, D("1200.00")),
    }
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert _vintage_cells(JAN) == {
        ("PERSONAL", jan, 0, 3, D("3600.00"), D("0.00"), D("0.00")),
        ("AUTO", jan, 0, 1, D("1200.00"), D("0.00"), D("0.00")),
    }
    assert _vintage_cells(FEB) == {
        ("PERSONAL", jan, 1, 3, D("3600.00"), D("0.00"), D("0.00")),  # 27 days at most
        ("AUTO", jan, 1, 1, D("1200.00"), D("0.00"), D("0.00")),
        ("PERSONAL", feb, 0, 1, D("1200.00"), D("0.00"), D("0.00")),
    }
    assert _vintage_cells(MAR) == {
        ("PERSONAL", jan, 2, 3, D("3600.00"), D("1200.00"), D("1200.00")),  # gone; late (58)
        ("AUTO", jan, 2, 1, D("1200.00"), D("0.00"), D("0.00")),
        ("PERSONAL", feb, 1, 1, D("1200.00"), D("0.00"), D("0.00")),  # 21 days
    }
    _rebuilt_equals_the_nights()
    _backfill_rebuilds_lost_month_ends()


def _rebuilt_equals_the_nights() -> None:
    for day in (JAN, FEB, MAR):
        tonight = (_loan_rows(day), _roll_cells(day), _vintage_cells(day))

        month_end_rebuild(day)

        assert (_loan_rows(day), _roll_cells(day), _vintage_cells(day)) == tonight, day


def _backfill_rebuilds_lost_month_ends() -> None:
    before = {day: (_loan_rows(day), _roll_cells(day), _vintage_cells(day)) for day in (FEB, MAR)}
    RollRateCell.objects.all().delete()
    VintageCell.objects.all().delete()
    LoanMonthEnd.objects.filter(month_end__gte=FEB).delete()

    call_command("backfill_snapshots", "--from", "2026-02-01", "--to", "2026-02-28")

    assert (_loan_rows(FEB), _roll_cells(FEB), _vintage_cells(FEB)) == before[FEB]
    assert not LoanMonthEnd.objects.filter(month_end=MAR).exists()
    call_command("backfill_snapshots", "--from", "2026-03-01")
    assert (_loan_rows(MAR), _roll_cells(MAR), _vintage_cells(MAR)) == before[MAR]


def _queries(name: str, date_from: date) -> int:
    """Queries a report makes (one, whatever the window's month ends and the loans)."""
    with CaptureQueriesContext(connection) as captured:
        _build(name, date_from=date_from, date_to=MAR)
    return len(captured)


def test_reports_by_hand_in_one_query(book):
    table = _build("roll_rates", date_from=date(2026, 2, 1), date_to=MAR)

    cells = [tuple(r[key] for key in ROLL_KEYS) for r in table.rows]
    assert cells == [
        # February: 4 loans, 4,700.00 current at January's end
        (FEB, "current", "current", 1, D("1100.00"), D("25.00"), D("23.40")),
        (FEB, "current", "1-29", 2, D("2400.00"), D("50.00"), D("51.06")),
        (FEB, "current", "paid_off", 1, D("1200.00"), D("25.00"), D("25.53")),
        # March: 2,200.00 current, 2,400.00 in 1-29 at February's end
        (MAR, "current", "current", 1, D("1000.00"), D("50.00"), D("45.45")),
        (MAR, "current", "1-29", 1, D("1200.00"), D("50.00"), D("54.55")),
        (MAR, "1-29", "30-59", 1, D("1200.00"), D("50.00"), D("50.00")),
        (MAR, "1-29", "charged_off", 1, D("1200.00"), D("50.00"), D("50.00")),
    ]
    assert table.summary == {"month_ends": 2}
    assert _queries("roll_rates", JAN) == _queries("roll_rates", MAR) == 1
    march_only = _build("roll_rates", date_from=date(2026, 3, 1), date_to=MAR)
    assert {r["month_end"] for r in march_only.rows} == {MAR}
    auto = _build("roll_rates", date_from=JAN, date_to=MAR, product="AUTO")
    assert [(r["to_state"], r["principal_share"]) for r in auto.rows] == [("paid_off", D("100.00"))]

    _vintage_report_by_hand()


def _vintage_report_by_hand() -> None:
    table = _build("vintage", date_from=JAN, date_to=MAR)

    cells = [tuple(r[key] for key in VINTAGE_KEYS) for r in table.rows]
    zero = D("0.00")
    assert cells == [
        ("2026-01", 0, 4, D("4800.00"), zero, zero, zero, zero),
        ("2026-01", 1, 4, D("4800.00"), zero, zero, zero, zero),
        ("2026-01", 2, 4, D("4800.00"), D("1200.00"), D("25.00"), D("1200.00"), D("25.00")),
        ("2026-02", 0, 1, D("1200.00"), zero, zero, zero, zero),
        ("2026-02", 1, 1, D("1200.00"), zero, zero, zero, zero),
    ]
    personal = _build("vintage", date_from=MAR, date_to=MAR, product="PERSONAL")
    assert [(r["origination_month"], r["charged_off_rate"]) for r in personal.rows] == [
        ("2026-01", D("33.33")),  # 1,200.00 of 3,600.00
        ("2026-02", zero),
    ]
    assert _queries("vintage", JAN) == _queries("vintage", MAR) == 1


def test_api_and_staff_pages(api_client, client, admin_user, loan_officer, book):
    api_client.force_authenticate(admin_user)
    window = {"from": "2026-02-01", "to": "2026-03-31"}

    rolls = api_client.get(URL.format("roll_rates"), window).json()
    vintage = api_client.get(URL.format("vintage"), window).json()
    vintage_csv = api_client.get(URL.format("vintage"), {**window, "format": "csv"})

    assert rolls["report"] == "roll_rates"
    assert rolls["rows"][0] == {
        "month_end": "2026-02-28",
        "from_bucket": "current",
        "to_state": "current",
        "loans": 1,
        "principal": "1100.00",
        "loan_share": "25.00",
        "principal_share": "23.40",
    }
    assert vintage["rows"][1]["charged_off_rate"] == "25.00"  # 2026-01 at 2 months on book
    rows = list(csv.reader(io.StringIO(vintage_csv.content.decode())))
    assert rows[0][:3] == ["Origination month", "Months on book", "Month end"]
    assert rows[2][:3] == ["2026-01", "2", "2026-03-31"]
    _staff_pages_draw_lines(client, admin_user, loan_officer)


def _staff_pages_draw_lines(client, admin_user, loan_officer) -> None:
    client.force_login(admin_user)

    page = client.get(
        "/staff/reports/vintage/", {"date_from": "2026-01-01", "date_to": "2026-03-31"}
    )
    rolls = client.get("/staff/reports/roll_rates/", {"date_from": "2026-01-01"})

    assert page.status_code == rolls.status_code == 200
    chart = page.context["chart"]
    assert chart["type"] == "line"
    assert chart["labels"] == ["0", "1", "2"]
    lines = {d["label"]: d["data"] for d in chart["datasets"]}
    assert lines["2026-01: charged off %"] == ["0.00", "0.00", "25.00"]
    assert lines["2026-02: 30+ DPD %"] == ["0.00", "0.00", None]  # one month on book so far
    assert 'id="report-chart-data"' in page.content.decode()
    forward = {d["label"]: d["data"] for d in rolls.context["chart"]["datasets"]}
    assert rolls.context["chart"]["labels"] == ["2026-02-28", "2026-03-31"]
    # current: 2,400.00 of 4,700.00 to 1-29, then 1,200.00 of 2,200.00; 1-29: all of it
    assert forward["current: rolled to a worse bucket or charged off %"] == ["51.06", "54.55"]
    assert forward["1-29: rolled to a worse bucket or charged off %"] == [None, "100.00"]
    client.force_login(loan_officer)  # view_reports: every staff member
    assert client.get("/staff/reports/roll_rates/").status_code == 200
