import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_calculator_updates_the_schedule_as_the_user_types(page):
    page.goto("/calculator/")
    schedule = page.locator("#calculator-result table tbody tr")
    expect(schedule).to_have_count(36)  # the default: 36 monthly payments

    # When the borrower types a new amount and term
    page.get_by_label("Loan amount").fill("5000")
    page.get_by_label("Interest rate", exact=False).fill("12")
    term = page.locator("#id_term")
    term.fill("18")

    # Then the schedule, the payment and the chart follow without a page load
    expect(schedule).to_have_count(18)
    expect(page.locator("[data-figure=payment]")).to_have_text("304.91")
    expect(page.locator("[data-figure=apr]")).to_have_text(re.compile(r"^12\.00%$"))
    expect(page.locator("#calculator-chart")).to_be_visible()
    assert page.url.endswith("/calculator/")


def test_calculator_shows_a_field_error_for_bad_input(page):
    page.goto("/calculator/")
    page.get_by_label("Loan amount").fill("abc")
    expect(page.locator("#calculator-result")).to_contain_text("amount")
    expect(page.locator(".errorlist").first).to_be_visible()
