"""Portfolio snapshots (servicing/snapshots.py) and the reports that read them
(servicing/reports_portfolio.py): written by close of business, equal to the ones rebuilt
from the ledger for the same days, and figures worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lendcore.core.reports import ReportFilters, report_get
from servicing import reports_portfolio
from servicing.cob.runner import cob_close_through
from servicing.models import CobRun, Loan, PortfolioActivity, PortfolioSnapshot
from servicing.services import payment_post
from servicing.snapshots import portfolio_snapshot_rebuild

from .factories import LoanFactory

LAST_CLOSED = date(2026, 2, 19)
PAYMENT = Decimal("106.62")


@pytest.fixture
def book(borrower, business_date, servicing_agent):
    """Three 1,200.00 loans disbursed 2026-01-01: `paid` pays its first installment (due
    2026-02-01) on 2026-01-31; `late` (PERSONAL) and `auto` (AUTO) never pay, so from
    2026-02-02 they are days past due. Closed through 2026-02-19."""
    paid = LoanFactory(borrower=borrower, application_ref="APP-PAID")
    late = LoanFactory(borrower=borrower, application_ref="APP-LATE")
    auto = LoanFactory(borrower=borrower, application_ref="APP-AUTO", product_code="AUTO")
    cob_close_through(through=date(2026, 1, 30))
    payment_post(loan=paid, amount=PAYMENT, method="ach", acting_user=servicing_agent)
    cob_close_through(through=LAST_CLOSED)
    return {
        name: Loan.objects.get(pk=loan.pk)
        for name, loan in {"paid": paid, "late": late, "auto": auto}.items()
    }


def _cells(day: date) -> set[tuple]:
    return set(
        PortfolioSnapshot.objects.filter(business_date=day).values_list(
            "product_code", "bucket", "status", "loans", "principal", "interest", "fees"
        )
    )


def _build(name: str, **filters):
    return report_get(name).build(ReportFilters(**filters))


def test_close_of_business_writes_each_days_snapshot_and_says_so(book):
    days = set(PortfolioSnapshot.objects.values_list("business_date", flat=True))
    run = CobRun.objects.get(business_date=LAST_CLOSED)

    assert days == {date(2026, 1, d) for d in range(1, 32)} | {
        date(2026, 2, d) for d in range(1, 20)
    }
    assert run.steps["snapshot"]["count"] == len(_cells(LAST_CLOSED))


def test_snapshot_of_the_night_equals_the_one_rebuilt_from_the_ledger(book):
    for day in (date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 2), LAST_CLOSED):
        tonight = _cells(day)
        flows = set(PortfolioActivity.objects.filter(business_date=day).values_list())

        portfolio_snapshot_rebuild(day)

        assert _cells(day) == tonight, day
        rebuilt = set(PortfolioActivity.objects.filter(business_date=day).values_list())
        assert {row[1:] for row in rebuilt} == {row[1:] for row in flows}, day  # ids differ


def test_figures_by_hand(book):
    late, auto, paid = book["late"], book["auto"], book["paid"]

    on_the_last_day = {(c[0], c[1]): c for c in _cells(LAST_CLOSED)}
    first_day = PortfolioActivity.objects.get(business_date=date(2026, 1, 1), product_code="AUTO")
    paid_day = PortfolioActivity.objects.get(business_date=date(2026, 1, 31))

    # two PERSONAL loans: `paid` current, `late` 18 days past due (due 2026-02-01)
    assert on_the_last_day[("PERSONAL", "current")][3] == 1
    assert on_the_last_day[("PERSONAL", "1-29")][4] == late.principal_balance
    assert on_the_last_day[("AUTO", "1-29")][4] == auto.principal_balance == Decimal("1200.00")
    assert on_the_last_day[("PERSONAL", "current")][4] == paid.principal_balance
    assert (first_day.originations, first_day.originated) == (1, Decimal("1200.00"))
    assert (paid_day.payments, paid_day.paid) == (1, PAYMENT)


def test_aging_and_par_reports(book):
    aging = _build("aging", date_from=LAST_CLOSED, date_to=date(2026, 2, 20))
    par = _build("par", date_from=date(2026, 2, 1), date_to=LAST_CLOSED)

    buckets = {row["bucket"]: row for row in aging.rows}
    active = sum(Loan.objects.values_list("principal_balance", flat=True), Decimal(0))
    late = Decimal("2400.00")
    assert aging.summary["snapshot_date"] == LAST_CLOSED  # the business date is not closed
    assert buckets["1-29"]["loans"] == 2
    assert buckets["1-29"]["principal"] == late
    assert buckets["1-29"]["share"] == (late * 100 / active).quantize(Decimal("0.01"))
    assert [row["bucket"] for row in aging.rows][:2] == ["current", "1-29"]
    # PAR1 is 0 on 2026-02-01 (nothing past due yet) and the late share from 2026-02-02;
    # PAR30 is 0 throughout (18 days at most)
    first, second, last = par.rows[0], par.rows[1], par.rows[-1]
    assert (first["date"], first["par1"]) == (date(2026, 2, 1), Decimal("0.00"))
    assert second["par1"] > 0
    assert last["par1"] == (late * 100 / last["principal"]).quantize(Decimal("0.01"))
    assert all(row["par30"] == 0 for row in par.rows)


def test_portfolio_report_of_one_product(book):
    table = _build("portfolio", date_from=LAST_CLOSED, date_to=LAST_CLOSED, product="AUTO")

    assert [(r["product"], r["status"], r["loans"]) for r in table.rows] == [("AUTO", "active", 1)]
    assert table.rows[0]["principal"] == Decimal("1200.00")


def test_backfill_command_rebuilds_what_was_lost(book):
    before = _cells(date(2026, 2, 10))
    PortfolioSnapshot.objects.filter(business_date__gte=date(2026, 2, 1)).delete()

    call_command("backfill_snapshots", "--from", "2026-02-01")

    assert _cells(date(2026, 2, 10)) == before
    assert PortfolioSnapshot.objects.filter(business_date=LAST_CLOSED).exists()
    with pytest.raises(CommandError, match="closed day"):
        call_command("backfill_snapshots", "--from", "2026-02-01", "--to", "2026-02-20")


def test_loan_tape_report_is_the_tape(book):
    table = _build("loan_tape", date_from=LAST_CLOSED, date_to=LAST_CLOSED, product="PERSONAL")

    assert sorted(r["loan_number"] for r in table.rows) == sorted(
        book[name].loan_number for name in ("paid", "late")
    )
    assert table.summary["loans"] == 2
    assert [c.key for c in table.columns][:2] == ["loan_id", "loan_number"]
    assert table.summary["truncated"] is False
    assert table.summary["full_tape"] == f"/api/v1/loan-tape/?as_of={LAST_CLOSED}&product=PERSONAL"


def test_loan_tape_report_shows_the_first_loans_and_says_there_are_more(book, monkeypatch):
    # a million loans would make a page of a million rows: the report is the tape's first page
    monkeypatch.setattr(reports_portfolio, "LOAN_TAPE_REPORT_ROWS", 1)
    table = _build("loan_tape", date_from=LAST_CLOSED, date_to=LAST_CLOSED, product="PERSONAL")

    first = min((book["paid"], book["late"]), key=lambda loan: loan.pk)
    assert [r["loan_number"] for r in table.rows] == [first.loan_number]
    assert table.summary["loans"] == 1
    assert table.summary["truncated"] is True


def test_dashboard_shows_par_and_income_to_roles_that_may_see_them(
    client, admin_user, loan_officer, book
):
    client.force_login(admin_user)
    admin_page = client.get("/staff/")
    client.force_login(loan_officer)
    officer_page = client.get("/staff/")

    assert admin_page.context["par"]["date"] == LAST_CLOSED
    assert admin_page.context["par"]["par1"] > 0
    assert 'id="par-trend-data"' in admin_page.content.decode()
    assert admin_page.context["income"]["this_month"] > 0
    assert "par" in officer_page.context  # PAR is every staff member's (view_reports)
    assert "income" not in officer_page.context  # income is the ledger's (export_gl)
