"""The Content-Security-Policy allows no inline script or style, and no page needs one: a real
Chromium reports every violation, on the portal, the staff UI, the admin and the API docs."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lendcore-demo"


@pytest.fixture
def violations(page):
    """Every CSP violation the page reports, as text."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(f"{page.url} {message.location}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return found


@pytest.fixture
def loan(borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    return board_loan(borrower=borrower, application_ref="CSP-1")


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_every_response_carries_the_policy(page):
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_public_pages_and_the_api_docs_run_without_a_violation(page, violations):
    page.goto("/")
    page.goto("/calculator/")
    page.get_by_label("Amount").fill("12000")  # the chart redraws from static/js
    page.wait_for_load_state("networkidle")
    page.goto("/accounts/login/")
    page.goto("/api/docs/")
    expect(page.get_by_text("LendCore API").first).to_be_visible()
    assert violations == []


def test_portal_and_staff_pages_run_without_a_violation(
    page, violations, loan, servicing_agent, borrower
):
    _sign_in(page, "carol@example.com")
    page.goto("/my-loans/")
    page.goto(f"/my-loans/{loan.pk}/")
    expect(page.get_by_role("heading", name=loan.loan_number).first).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, servicing_agent.username)
    page.goto("/staff/")
    page.goto("/staff/loans/")
    page.goto(f"/staff/loans/{loan.pk}/")
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_admin_runs_without_a_violation(page, violations, admin_user):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/auth/user/")
    page.goto("/admin/auth/user/add/")
    page.wait_for_load_state("networkidle")
    assert violations == []
