"""Browser tests of origination (issue 3's acceptance): the portal apply -> upload -> accept
flow, and the staff approve (four-eyes) -> the borrower accepts in the portal -> disburse flow
(staff no longer accept for the borrower without `accept_on_behalf`, issue 10 point 1).

Set ORIGINATION_SCREENSHOTS=/tmp/dir to keep full-page PNGs of the main pages.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from lendcore.accounts.demo import DEMO_PASSWORD
from origination import services
from origination.models import Application, Offer
from servicing.models import Loan
from tests.origination.conftest import _media, product  # noqa: F401  (fixtures)
from tests.origination.factories import PDF, PNG, ApplicantFactory, ApplicationFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("ORIGINATION_SCREENSHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=f"Sign out ({username})")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def upload(page: Page, doc_type: str, name: str, mime: str, data: bytes) -> None:
    page.get_by_label("Document type").select_option(doc_type)
    page.get_by_label("File (PDF, JPEG or PNG").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.get_by_role("button", name="Upload").click()


def test_portal_apply_upload_and_accept(page: Page, borrower, product):  # noqa: F811
    # Given a signed-in borrower
    sign_in(page, "carol@example.com")
    page.goto("/apply/")
    page.get_by_role("button", name="Start a new application").click()

    # Step 1: the loan, with the live quote updating as they type
    expect(page.get_by_role("heading", name="Your loan")).to_be_visible()
    page.get_by_label("Amount").fill("12000")
    page.get_by_label("Number of payments").fill("48")
    expect(page.locator("#apply-quote table.estimates")).to_contain_text("740–850")
    first_payment = page.locator('#apply-quote [data-figure="payment"]').inner_text()
    page.get_by_label("Number of payments").fill("24")
    expect(page.locator('#apply-quote [data-figure="payment"]')).not_to_have_text(first_payment)
    page.get_by_label("Amount").fill("500")
    expect(page.locator("#apply-quote")).to_contain_text("Enter an amount between 1,000")
    page.get_by_label("Amount").fill("10000")
    page.get_by_label("Number of payments").fill("36")
    expect(page.locator('#apply-quote [data-figure="apr"]')).to_be_visible()
    shot(page, "portal-apply-terms")
    page.get_by_role("button", name="Continue").click()

    # Step 2: about you (sandbox SSN 9999 is approved automatically)
    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    page.get_by_label("Date of birth").fill("1985-04-02")
    page.get_by_label("Social Security number").fill("123-45-9999")
    page.get_by_label("Phone").fill("+1 555 0100")
    page.get_by_label("Address", exact=True).fill("1 Elm Street")
    page.get_by_label("City", exact=True).fill("Springfield")
    page.get_by_label("State", exact=True).fill("IL")
    page.get_by_label("ZIP code").fill("62701")
    page.get_by_label("Employer", exact=True).fill("Acme")
    page.get_by_label("Months with this employer").fill("40")
    page.get_by_label("Monthly income (before tax)").fill("8000")
    page.get_by_label("Monthly rent or mortgage").fill("1500")
    page.get_by_label("Other monthly debt payments").fill("300")
    page.get_by_role("button", name="Review").click()

    # Step 3: review, masked SSN
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    expect(page.get_by_text("***-**-9999")).to_be_visible()
    page.get_by_role("button", name="Save and continue to documents").click()

    # Documents: a PNG and a PDF generated in memory
    expect(page.get_by_test_id("status")).to_have_text("Draft")
    upload(page, "id_proof", "id.png", "image/png", PNG)
    expect(page.get_by_text("Proof of identity uploaded.")).to_be_visible()
    upload(page, "proof_of_income", "payslip.pdf", "application/pdf", PDF)
    expect(page.get_by_text("Proof of income uploaded.")).to_be_visible()
    shot(page, "portal-application-draft")
    page.get_by_role("button", name="Submit my application").click()

    # Decided by the sandbox: approved, with an offer
    expect(page.get_by_test_id("status")).to_have_text("Approved")
    page.get_by_role("button", name="See and accept your offer").click()
    expect(page.get_by_role("heading", name="Your loan offer")).to_be_visible()
    expect(page.get_by_text("ANNUAL PERCENTAGE RATE")).to_be_visible()
    page.get_by_text("Payment schedule (36 payments").click()
    expect(page.locator("table caption", has_text="Payment schedule")).to_be_visible()
    shot(page, "portal-offer")

    # Accept with the account the loan is paid to and the typed name
    page.get_by_label("Account number the loan is paid to").fill("0001 1122 2333")
    page.get_by_label("Type your full legal name to sign").fill("Carol Clark")
    page.get_by_label("I have read the Truth in Lending disclosure").check()
    page.get_by_role("button", name="Accept and sign").click()
    expect(page.get_by_test_id("status")).to_have_text("Offer accepted")

    application = Application.objects.get()
    offer = Offer.objects.get(application=application)
    assert (application.channel, application.status) == ("portal", "offer_accepted")
    assert offer.signature_name == "Carol Clark"
    assert offer.signature_ip == "127.0.0.1"
    assert application.disbursement_account_last4 == "2333"
    assert application.documents.filter(doc_type="tila_disclosure").exists()


def test_staff_four_eyes_approve_then_disburse(
    page: Page,
    borrower,
    loan_officer,
    underwriter,
    underwriter2,
    product,  # noqa: F811
):
    # Given a referred application (sandbox 5555) above the 25,000 four-eyes limit
    applicant = ApplicantFactory(
        last4="5555",
        borrower=borrower,
        acting_user=borrower.user,
        first_name="Carol",
        last_name="Clark",
    )
    application = ApplicationFactory(
        applicant=applicant,
        product=product,
        amount=Decimal("30000.00"),
        acting_user=loan_officer,
        with_documents=True,
    )
    services.application_submit(application=application, acting_user=loan_officer)
    application.refresh_from_db()
    assert application.status == "referred"
    detail = f"/staff/applications/{application.pk}/"

    # The first underwriter finds it in the queue and approves
    sign_in(page, underwriter.username)
    page.goto("/staff/applications/?status=referred")
    page.get_by_role("link", name=f"#{application.pk}").click()
    expect(page.get_by_role("heading", name=f"Application #{application.pk}")).to_be_visible()
    expect(page.locator("table.trace")).to_contain_text("Fired")
    expect(page.get_by_text("***-**-5555")).to_be_visible()
    page.get_by_role("button", name="Reveal").click()
    expect(page.locator("#ssn-value")).to_have_text("123-45-5555")
    shot(page, "staff-application-referred")
    page.locator('button[data-action="approve"]').click()
    expect(page.get_by_text("a second underwriter must approve too")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Referred")
    sign_out(page)

    # The second underwriter approves: the offer is made
    sign_in(page, underwriter2.username)
    page.goto(detail)
    page.locator('button[data-action="approve"]').click()
    expect(page.get_by_test_id("status")).to_have_text("Approved")
    expect(page.get_by_text("ANNUAL PERCENTAGE RATE")).to_be_visible()
    sign_out(page)

    # The borrower accepts in the portal, seeing where the loan is paid
    sign_in(page, borrower.user.username)
    page.goto(f"/apply/{application.pk}/offer/")
    expect(page.locator('[data-figure="disbursement-account"]')).to_have_text("••••2333")
    page.get_by_label("Type your full legal name to sign").fill("Carol Clark")
    page.get_by_label("I have read the Truth in Lending disclosure").check()
    page.get_by_role("button", name="Accept and sign").click()
    expect(page.get_by_test_id("status")).to_have_text("Offer accepted")
    sign_out(page)

    # A loan officer disburses (to the account the borrower accepted)
    sign_in(page, loan_officer.username)
    page.goto(detail)
    expect(page.get_by_test_id("status")).to_have_text("Offer accepted")
    expect(page.get_by_text("Accept on the borrower's behalf")).to_have_count(0)
    page.get_by_label("Method").select_option("wire")
    page.get_by_label("Reference").fill("WIRE-0001")
    # A double submit: the same form (same Idempotency-Key) posted twice; at once on
    # PostgreSQL, one after the other on SQLite (its in-memory test database locks tables)
    statuses = page.evaluate(
        """async (together) => {
            const form = document.querySelector("form.disburse-form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = together ? await Promise.all([send(), send()])
                                     : [await send(), await send()];
            return answers.map(a => a.status);
        }""",
        connection.vendor == "postgresql",
    )
    assert statuses == [200, 200], statuses
    page.goto(detail)
    expect(page.get_by_test_id("status")).to_have_text("Disbursed")
    loan = Loan.objects.get()
    expect(page.get_by_test_id("loan-number")).to_have_text(loan.loan_number)
    assert Application.objects.get(pk=application.pk).loan_id == loan.pk
    shot(page, "staff-application-disbursed")

    # The queue lists it as disbursed, with the counts per status
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Applications").click()
    expect(page.locator('a.chip[data-status="disbursed"]')).to_contain_text("1")
    shot(page, "staff-queue")
