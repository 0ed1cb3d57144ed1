"""The servicing acceptance in a real browser: a borrower pays from the portal, a debit
through the payment rail pending until close of business; an admin runs close of business
and the borrower sees it posted; a borrower cancels a payment not sent yet; a servicing
agent reverses a settled payment as NSF and the NSF fee appears on the loan page."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from servicing.cob.runner import cob_run_start
from servicing.ledger import ledger_problems
from servicing.models import Fee, Loan, Payment, RailTransfer
from servicing.rail_payments import payment_request_create
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


def _sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("Sign out")).click()


def _open_my_loan(page, loan) -> None:
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My loans").click()
    page.get_by_role("link", name=re.compile(loan.loan_number)).first.click()
    expect(page.get_by_role("heading", name=re.compile(loan.loan_number))).to_be_visible()


def _pay_from_the_portal(page, amount: str) -> None:
    page.get_by_role("button", name="Make a payment").click()
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Pay from").select_option("ach")
    page.get_by_label("Account or card number").fill("000123456789")
    page.get_by_label("Routing number").fill("021000021")
    page.get_by_role("button", name="Review payment").click()
    expect(page.get_by_text("You are paying")).to_contain_text(f"${amount}")
    expect(page.get_by_text("You are paying")).to_contain_text("ending 6789")
    page.get_by_role("button", name="Confirm payment").click()


def test_borrower_pays_then_close_of_business_posts_it(page, loan, borrower, admin_user):
    # Given Carol signed in to the portal, on her loan page
    _sign_in(page, borrower.user.username)
    _open_my_loan(page, loan)
    expect(page.locator("#balance")).to_have_text("$1,200.00")

    # When she pays 106.59 from her bank account, reviews and confirms
    _pay_from_the_portal(page, "106.59")

    # Then she is told it is pending until tonight's close of business, and sees it pending
    expect(page.get_by_role("status")).to_contain_text(
        "Your payment of $106.59 is pending; it settles at close of business on February 1, 2026"
    )
    pending = page.locator("#pending-table")
    expect(pending).to_contain_text("$106.59")
    expect(pending).to_contain_text("Bank account ****6789")
    expect(pending).to_contain_text("at close of business on February 1, 2026")
    expect(pending.get_by_role("button", name=re.compile("Cancel"))).to_be_visible()
    expect(page.get_by_text("No payments yet.")).to_be_visible()  # nothing posted yet
    expect(page.locator("#balance")).to_have_text("$1,200.00")
    assert not Payment.objects.exists()

    # When an admin runs close of business for the day
    _sign_out(page)
    _sign_in(page, admin_user.username)
    page.goto("/staff/cob/")
    page.get_by_role("button", name="Run close of business for 2026-02-01").click()
    expect(page.get_by_text("Close of business for 2026-02-01 finished")).to_be_visible()
    _sign_out(page)

    # Then Carol's loan page shows the payment posted and the balance reduced
    _sign_in(page, borrower.user.username)
    _open_my_loan(page, loan)
    expect(page.locator("#pending-table")).to_have_count(0)
    history = page.locator("#history-table")
    expect(history).to_contain_text("Payment")
    expect(history).to_contain_text("$106.59")
    expect(history).to_contain_text("Posted")
    paid = Loan.objects.get(pk=loan.pk)
    assert paid.principal_balance < Decimal("1200.00")
    expect(page.locator("#balance")).to_have_text(f"${paid.total_due:,.2f}")
    payment = Payment.objects.get(loan=loan)
    assert (payment.amount, payment.effective_date) == (Decimal("106.59"), date(2026, 2, 1))
    assert RailTransfer.objects.get(loan=loan).payment_id == payment.pk


def test_borrower_cancels_a_payment_not_sent_yet(page, loan, borrower):
    # Given Carol asked for a payment today
    _sign_in(page, borrower.user.username)
    _open_my_loan(page, loan)
    _pay_from_the_portal(page, "50.00")
    pending = page.locator("#pending-table")
    expect(pending).to_contain_text("$50.00")

    # When she cancels it from her loan page
    pending.get_by_role("button", name="Cancel the payment of $50.00").click()

    # Then she is told so, it is no longer listed, and close of business sends nothing
    expect(page.get_by_role("status")).to_contain_text("Your payment of $50.00 is cancelled.")
    expect(page.locator("#pending-table")).to_have_count(0)
    assert RailTransfer.objects.get(loan=loan).status == "cancelled"


def test_agent_reverses_a_settled_payment_as_nsf(page, loan, borrower, servicing_agent):
    # Given Carol's payment through the rail, settled and posted at close of business
    payment_request_create(
        loan=loan,
        amount=Decimal("106.59"),
        method="ach",
        account_number="000123456789",
        routing_number="021000021",
        acting_user=borrower.user,
    )
    assert cob_run_start(trigger="test").status == "succeeded"
    payment = Payment.objects.get(loan=loan)

    # When the agent reverses it as NSF from the loan page
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
