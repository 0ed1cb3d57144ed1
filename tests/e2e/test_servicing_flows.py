"""The servicing acceptance in a real browser: a borrower pays from the portal and sees the
payment; a servicing agent reverses it as NSF and the NSF fee appears on the loan page."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from servicing.ledger import ledger_problems
from servicing.models import Fee, Payment
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lendcore-demo"


@pytest.fixture
def loan(borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    made = board_loan(borrower=borrower, application_ref="E2E-1")
    business_date_set(business_date=date(2026, 2, 1), acting_user=None)
    yield made
    assert not ledger_problems()


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_borrower_pays_then_agent_reverses_as_nsf(page, loan, borrower, servicing_agent):
    # Given Carol signed in to the portal
    _sign_in(page, borrower.user.username)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My loans").click()
    page.get_by_role("link", name=re.compile(loan.loan_number)).first.click()
    expect(page.get_by_role("heading", name=re.compile(loan.loan_number))).to_be_visible()

    # When she pays 106.62, reviews and confirms
    page.get_by_role("button", name="Make a payment").click()
    page.get_by_label("Amount").fill("106.62")
    page.get_by_label("Pay from").select_option("ach")
    page.get_by_role("button", name="Review payment").click()
    expect(page.get_by_text("You are paying")).to_contain_text("$106.62")
    page.get_by_role("button", name="Confirm payment").click()

    # Then she sees the confirmation and the payment in her history
    expect(page.get_by_role("status")).to_contain_text("your payment of $106.62")
    history = page.locator("#history-table")
    expect(history).to_contain_text("Payment")
    expect(history).to_contain_text("$106.62")
    expect(history).to_contain_text("Posted")
    payment = Payment.objects.get(loan=loan)

    # When the agent reverses it as NSF from the loan page
    page.get_by_role("button", name=re.compile("Sign out")).click()
    _sign_in(page, servicing_agent.username)
    page.goto(f"/staff/loans/{loan.pk}/")
    page.locator("#transactions-table").get_by_role("link", name="Reverse").click()
    reverse = page.locator("#reverse")
    expect(reverse).to_have_attribute("open", "")
    expect(reverse.get_by_label("Payment")).to_have_value(str(payment.pk))
    reverse.get_by_label("Reason").fill("Returned R01 insufficient funds")
    reverse.get_by_label(re.compile("insufficient funds")).check()
    reverse.get_by_role("button", name="Reverse payment").click()

    # Then the payment shows reversed and the NSF fee appears, in the balances too
    expect(page.get_by_role("status")).to_contain_text("reversed")
    table = page.locator("#transactions-table")
    expect(table.locator('tr[data-kind="nsf_fee"]')).to_contain_text("25.00")
    expect(table.locator('tr[data-kind="payment"]')).to_contain_text("Reversed")
    expect(page.locator("#fees-balance")).to_have_text("25.00")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REVERSED
    assert Fee.objects.filter(loan=loan, kind=Fee.Kind.NSF, amount="25.00").exists()
