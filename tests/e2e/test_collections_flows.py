"""The collector's workspace in a real browser: a collector opens a case from the queue,
logs a call with a promise to pay, records the promise, and is refused an eighth call in a
week with the reason on the page (Regulation F); a borrower asks for a hardship plan in the
portal and a collections manager (not the requester) approves it, which cures the loan; a
collector who asks for a plan is told they cannot decide it (four-eyes)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from collections_app.models import (
    CollectionCase,
    Contact,
    ContactPreference,
    HardshipPlan,
    PromiseToPay,
)
from collections_app.services.contacts import contact_log
from lendcore.accounts.roles import Role
from lendcore.accounts.services import staff_user_create
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


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()


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


# --------------------------------------------------------------------------- hardship plans

LATE = date(2026, 3, 1)  # 15 days after the first due date (2026-02-14), nothing paid


@pytest.fixture
def late_loan(borrower):
    business_date_set(business_date=date(2026, 1, 14), acting_user=None)
    loan = board_loan(
        borrower=borrower, application_ref="E2E-HARDSHIP", disbursed_on=date(2026, 1, 14)
    )
    business_date_set(business_date=LATE, acting_user=None)
    return loan


@pytest.fixture
def collections_manager(roles):
    return staff_user_create(
        username="collections_manager", password=PASSWORD, role=Role.COLLECTIONS_MANAGER
    )


def test_a_borrower_asks_for_a_hardship_plan_and_a_manager_approves_it(
    browser, live_server, page, late_loan, borrower, collections_manager
):
    loan = late_loan

    # Given the borrower signed in, on their late loan: the overdue banner, the amount to
    # cure and a pay button
    _sign_in(page, borrower.email)
    page.goto(f"/my-loans/{loan.pk}/")
    banner = page.locator(f"#overdue-{loan.pk}")
    expect(banner).to_contain_text(f"{loan.loan_number} is 15 days past due.")
    expect(banner.locator("[data-amount-to-cure]")).to_have_text(re.compile(r"^\$\d[\d,]*\.\d\d$"))
    expect(banner.get_by_role("button", name="Pay now")).to_have_attribute(
        "href", f"/my-loans/{loan.pk}/pay/"
    )

    # When they open the hardship form from the banner and send a request
    banner.get_by_role("link", name=re.compile("Ask for a hardship plan")).click()
    expect(page.get_by_role("heading", name="Ask for a hardship plan")).to_be_visible()
    page.locator("#id_kind").select_option("deferral")
    page.locator("#id_months").fill("2")
    page.locator("#id_reason").fill("Reduced hours at work")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("status")).to_contain_text("We received your hardship request.")
    plan = HardshipPlan.objects.get(loan=loan)
    assert (plan.status, plan.channel) == ("requested", "portal")

    # Then the collections manager (someone else) opens the workouts page and approves it
    staff = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    staff.set_default_timeout(10_000)
    manager_page = staff.new_page()
    try:
        _sign_in(manager_page, collections_manager.username)
        manager_page.goto("/staff/collections/workouts/")
        row = manager_page.get_by_role("row").filter(has_text=loan.loan_number)
        expect(row).to_contain_text("Reduced hours at work")
        expect(row).to_contain_text(f"{borrower.user.get_username()} (Portal)")
        row.get_by_role("textbox").fill("hours confirmed by phone")
        row.get_by_role("button", name="Approve").click()
        expect(manager_page.get_by_role("status")).to_contain_text(
            f"Hardship plan {plan.pk} approved."
        )
        expect(manager_page.get_by_text("None waiting.").first).to_be_visible()

        # The loan is cured and flagged in hardship, on the staff loan page and the case page
        manager_page.goto(f"/staff/loans/{loan.pk}/")
        expect(manager_page.locator("#dpd")).to_have_text("0")
        expect(manager_page.get_by_text("In hardship", exact=True)).to_be_visible()
        expect(manager_page.get_by_text("Delinquent", exact=True)).to_have_count(0)
        manager_page.goto(f"/staff/collections/cases/{plan.case_id}/")
        panel = manager_page.locator("#workouts")
        expect(panel).to_contain_text("Active")
        expect(panel).to_contain_text(f"approved by {collections_manager.username}")
        expect(manager_page.locator("#case-dpd")).to_have_text("0")
    finally:
        staff.close()

    # And the borrower's portal shows the plan, with no overdue banner
    page.goto(f"/my-loans/{loan.pk}/")
    expect(page.locator(f"#overdue-{loan.pk}")).to_have_count(0)
    expect(page.locator("#hardship-notice")).to_contain_text("You are on a hardship plan.")
    page.locator("#hardship-notice").get_by_role("link", name="See your plan").click()
    expect(page.locator("#open-plan")).to_contain_text("deferral")
    expect(page.locator("#open-plan")).to_contain_text("is active until")


def test_a_collector_cannot_decide_a_plan_they_asked_for(page, case, collector):
    # Given the collector on their case
    _sign_in(page, collector.username)
    page.goto(f"/staff/collections/cases/{case.pk}/")
    panel = page.locator("#workouts")

    # When they ask for a hardship plan from the case page
    panel.locator("#id_kind").select_option("term_extension")
    panel.locator("#id_months").fill("6")
    panel.locator("#id_reason").fill("Borrower lost a second job")
    panel.get_by_role("button", name="Request a hardship plan").click()
    expect(page.get_by_text("Hardship plan requested: a manager decides it.")).to_be_visible()

    # Then they are back on the case, told why they cannot decide it, with no button to
    expect(page.get_by_role("heading", name=f"Case {case.pk}")).to_be_visible()
    expect(panel).to_contain_text("Waiting for a manager's decision (not yours: you asked for it).")
    expect(panel.get_by_role("button", name="Approve and apply")).to_have_count(0)
    assert HardshipPlan.objects.get(loan=case.loan).status == "requested"
