import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from lendcore.accounts.models import Borrower

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_user_logs_in_and_sees_the_dashboard(page, underwriter):
    page.goto("/staff/")
    # Redirected to the login page first
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("t_underwriter")
    page.get_by_label("Password").fill("lendcore-demo")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    nav = page.get_by_role("navigation", name="Staff")
    # the nav offers what the underwriter's role may open (the policy table), nothing else
    for label in ("Applications", "Reports"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    for label in ("Loans", "Collections", "Close of business"):
        expect(nav.get_by_role("link", name=label)).to_have_count(0)
    expect(page.get_by_text("role: underwriter")).to_be_visible()


def test_borrower_signs_up_then_logs_in(page, roles):
    page.goto("/")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("First name").fill("Frances")
    page.get_by_label("Last name").fill("Fisher")
    page.get_by_label("Email").fill("frances@example.com")
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_label("Confirm password").fill("correct-horse-battery")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    # the link in the e-mail opens the account and signs in
    link = re.search(r"http://\S+/accounts/signup/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome back, Frances")).to_be_visible()
    assert Borrower.objects.filter(email="frances@example.com").exists()

    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("frances@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome back, Frances")).to_be_visible()


def test_sign_up_shows_field_errors(page, roles):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    assert not Borrower.objects.exists()
