"""Reports in a real browser: the dashboard draws the PAR trend chart from the snapshots,
a report page draws its chart and exports CSV and PDF, and the vintage page draws its lines."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from servicing.cob.runner import cob_close_through
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lendcore-demo"


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_dashboard_chart_and_a_report_exported(page, admin_user, borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    board_loan(borrower=borrower, application_ref="E2E-REP-1")
    board_loan(borrower=borrower, application_ref="E2E-REP-2", product_code="AUTO")
    cob_close_through(through=date(2026, 2, 5))  # never paid: past due from 2026-02-02

    _sign_in(page, admin_user.username)
    trend = page.locator("canvas.report-chart-canvas")
    expect(trend).to_have_attribute("data-drawn", "true")
    expect(page.get_by_text("PAR1", exact=True)).to_be_visible()

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Aging").click()
    expect(page.get_by_role("heading", name="Aging")).to_be_visible()
    expect(page.locator("canvas.report-chart-canvas")).to_have_attribute("data-drawn", "true")
    expect(page.locator("table.report-table")).to_contain_text("1-29")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download CSV").click()
    assert csv_download.value.suggested_filename.startswith("aging-")
    with open(csv_download.value.path(), encoding="utf-8") as csv_file:
        assert csv_file.readline().startswith("Bucket,Loans,Principal")
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download PDF").click()
    with open(pdf_download.value.path(), "rb") as pdf_file:
        assert pdf_file.read(4) == b"%PDF"

    # a line chart (one line per origination month) from January's month end
    page.goto("/staff/reports/vintage/?date_from=2026-01-01")
    expect(page.locator("canvas.report-chart-canvas")).to_have_attribute("data-drawn", "true")
    expect(page.locator("table.report-table")).to_contain_text("2026-01")
