"""The collector's workspace in a real browser: a collector opens a case from the queue,
logs a call with a promise to pay, records the promise, and is refused an eighth call in a
week with the reason on the page (Regulation F)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from collections_app.models import CollectionCase, Contact, ContactPreference, PromiseToPay
from collections_app.services.contacts import contact_log
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lendcore-demo"
CHICAGO = ZoneInfo("America/Chicago")
ON = date(2026, 3, 6)


@pytest.fixture
def case(borrower, collector):
    business_date_set(business_date=date(2026, 1, 14), acting_user=None)
    loan = board_loan(borrower=borrower, application_ref="E2E-COL")
    business_date_set(business_date=ON, acting_user=None)
    ContactPreference.objects.create(borrower=borrower, time_zone="America/Chicago")
    made = CollectionCase.objects.create(
        loan=loan,
        status="open",
        opened_on=date(2026, 2, 15),
        bucket="1-29",
        priority=Decimal("2000.00"),
        amount_past_due=Decimal("100.00"),
        dpd=20,
        assignee=collector,
        reviewed_on=ON,
    )
    for day in range(17, 23):  # six calls already this week
        contact_log(
            case=made,
            channel="call",
            direction="outbound",
            outcome="no_answer",
            at=datetime(2026, 11, day, 10, 0, tzinfo=CHICAGO),
            acting_user=collector,
            on=ON,
        )
    return made


def _log_call(page, at: str, outcome: str) -> None:
    page.locator("#id_contact-channel").select_option("call")
    page.locator("#id_contact-direction").select_option("outbound")
    page.locator("#id_contact-outcome").select_option(outcome)
    page.locator("#id_contact-at").fill(at)
    page.get_by_role("button", name="Log contact").click()


def test_a_collector_logs_a_promise_and_is_refused_an_eighth_call(page, case, collector):
    # Given the collector signed in, on the queue
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(collector.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/staff/collections/")
    page.get_by_role("link", name=str(case.pk), exact=True).click()
    expect(page.get_by_role("heading", name=f"Case {case.pk}")).to_be_visible()
    expect(page.locator("#calls-7d")).to_contain_text("of 7")

    # When they log the seventh call of the week, with a promise to pay
    _log_call(page, "2026-11-23T10:00", "promise_to_pay")
    expect(page.get_by_text("Contact logged.")).to_be_visible()
    page.locator("#id_promise-amount_1").fill("50.00")
    page.locator("#id_promise-due_date_1").fill((ON + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Record promise").click()
    expect(page.get_by_text("Promise to pay recorded.")).to_be_visible()
    expect(page.locator("#promises")).to_contain_text("Pending")

    # Then an eighth call that week is refused, with the reason, and nothing is logged
    _log_call(page, "2026-11-23T11:00", "no_answer")
    expect(page.locator("#log-contact")).to_contain_text(re.compile("eighth is refused"))
    assert Contact.objects.filter(case=case).count() == 7
    assert PromiseToPay.objects.filter(case=case, amount=Decimal("50.00")).count() == 1
