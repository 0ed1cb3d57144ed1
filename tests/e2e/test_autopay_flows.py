"""Autopay in a real browser (issue 13): a borrower enrols in autopay from the portal, with
the authorization of recurring debits, and the staff loan page shows the enrolment."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from servicing.ledger import ledger_problems
from servicing.models import AutopayEnrolment
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lendcore-demo"


@pytest.fixture
def loan(borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    made = board_loan(borrower=borrower, application_ref="E2E-AUTOPAY-1")
    business_date_set(business_date=date(2026, 1, 15), acting_user=None)
    yield made
    assert not ledger_problems()


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("Sign out")).click()


def test_borrower_enrols_in_autopay_and_staff_see_it(page, loan, borrower, servicing_agent):
    # Given Carol on her loan page, autopay off
    _sign_in(page, borrower.user.username)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My loans").click()
    page.get_by_role("link", name=re.compile(loan.loan_number)).first.click()
    section = page.locator("#autopay")
    expect(section).to_contain_text("Autopay is off")

    # When she opens the form, forgets the authorization box, then ticks it
    section.get_by_text("Set up autopay").click()
    expect(section.get_by_text("Authorization of recurring debits")).to_be_visible()
    section.get_by_label("Bank account number").fill("000123456789")
    section.get_by_label("Routing number").fill("021000021")
    section.get_by_role("button", name="Turn on autopay").click()
    section = page.locator("#autopay")
    expect(section.get_by_role("alert")).to_contain_text("Tick the box")
    assert not AutopayEnrolment.objects.exists()
    section.get_by_label("Bank account number").fill("000123456789")
    section.get_by_label("Routing number").fill("021000021")
    section.get_by_label(re.compile("I authorize these recurring debits")).check()
    section.get_by_role("button", name="Turn on autopay").click()

    # Then she is told autopay is on, and sees it masked
    expect(page.get_by_role("status")).to_contain_text("Autopay is on")
    expect(page.locator("#autopay-status")).to_contain_text("****6789")
    expect(page.locator("#autopay")).not_to_contain_text("000123456789")
    enrolment = AutopayEnrolment.objects.get(loan=loan, active=True)
    assert enrolment.created_by_id == borrower.user.pk

    # When a servicing agent opens the loan page
    _sign_out(page)
    _sign_in(page, servicing_agent.username)
    page.goto(f"/staff/loans/{loan.pk}/")

    # Then the Autopay panel shows the active enrolment, masked, enrolled by Carol
    active = page.locator("#autopay-active")
    expect(active).to_contain_text("****6789")
    expect(active).to_contain_text("0021")
    expect(active).to_contain_text(borrower.user.username)
    expect(page.get_by_role("button", name="Cancel autopay")).to_be_visible()
