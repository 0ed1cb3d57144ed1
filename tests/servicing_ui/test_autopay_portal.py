"""The portal's Autopay section (issue 13): a borrower enrols their own loan with the
authorization of recurring debits, sees the enrolment masked and cancels it; another
borrower's loan is 404, the consent box is required, a bad routing number names the field,
a loan that is not active is refused (409) and nothing changes."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from servicing.autopay import AUTHORIZATION_TEXT
from servicing.models import AutopayEnrolment, Loan, LoanEvent
from servicing.services import payment_post, payoff_quote

ROUTING = "021000021"


@pytest.fixture
def carol(signed_in, borrower):
    return signed_in(borrower.user)


def _enrol(client, loan, *, account="000123456789", routing=ROUTING, authorized=True, key=None):
    data = {
        "account_number": account,
        "routing_number": routing,
        "idempotency_key": key or str(uuid.uuid4()),
    }
    if authorized:
        data["authorized"] = "on"
    return client.post(f"/my-loans/{loan.pk}/autopay/", data)


def _cancel(client, loan):
    return client.post(
        f"/my-loans/{loan.pk}/autopay/cancel/", {"idempotency_key": str(uuid.uuid4())}
    )


def test_the_loan_page_offers_autopay_with_the_authorization(carol, loan):
    html = carol.get(f"/my-loans/{loan.pk}/").content.decode()
    assert 'id="autopay"' in html
    assert "Autopay is off" in html
    assert "Set up autopay" in html
    assert "I authorize these recurring debits" in html
    assert AUTHORIZATION_TEXT.split(".")[0] in html


def test_borrower_enrols_sees_it_masked_and_cancels(carol, loan, borrower):
    # When Carol enrols with her account, ticking the authorization
    response = _enrol(carol, loan)

    # Then she is back on her loan page, autopay on from ****6789, the numbers never in clear
    assert response.status_code == 302
    assert response["Location"].endswith(f"/my-loans/{loan.pk}/#autopay")
    enrolment = AutopayEnrolment.objects.get(loan=loan, active=True)
    assert enrolment.created_by == borrower.user
    page = carol.get(f"/my-loans/{loan.pk}/").content.decode()
    assert "Autopay is on" in page
    assert "****6789" in page
    assert "000123456789" not in page
    assert ROUTING not in page
    assert "Cancel autopay" in page

    # When she cancels it
    response = _cancel(carol, loan)

    # Then it is off, recorded as cancelled
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert not enrolment.active
    assert enrolment.cancelled_at is not None
    assert "Autopay is off" in carol.get(f"/my-loans/{loan.pk}/").content.decode()
    assert LoanEvent.objects.filter(loan=loan, kind="autopay").count() == 2


def test_a_double_submit_enrols_once(carol, loan):
    key = str(uuid.uuid4())
    assert _enrol(carol, loan, key=key).status_code == 302
    assert _enrol(carol, loan, key=key).status_code == 302
    assert AutopayEnrolment.objects.filter(loan=loan).count() == 1


def test_another_borrowers_loan_is_404(signed_in, other_borrower, loan):
    dave = signed_in(other_borrower.user)
    assert _enrol(dave, loan).status_code == 404
    assert _cancel(dave, loan).status_code == 404
    assert not AutopayEnrolment.objects.exists()


def test_consent_is_required(carol, loan):
    response = _enrol(carol, loan, authorized=False)
    assert response.status_code == 400
    form = response.context["autopay_form"]
    assert "authorized" in form.errors
    assert "Tick the box" in response.content.decode()
    assert not AutopayEnrolment.objects.exists()


@pytest.mark.parametrize(
    ("routing", "text"),
    [("021000022", "check digit"), ("1234", "9 digits"), ("", "routing number")],
)
def test_a_bad_routing_number_names_the_field(carol, loan, routing, text):
    response = _enrol(carol, loan, routing=routing)
    assert response.status_code == 400
    errors = response.context["autopay_form"].errors
    assert list(errors) == ["routing_number"]
    assert text in errors["routing_number"][0]
    html = response.content.decode()
    assert 'id="id_routing_number_error"' in html
    assert "000123456789" not in html  # never written back
    assert not AutopayEnrolment.objects.exists()


def test_a_bad_account_number_names_the_field(carol, loan):
    response = _enrol(carol, loan, account="12")
    assert response.status_code == 400
    assert list(response.context["autopay_form"].errors) == ["account_number"]


def test_a_paid_off_loan_is_refused_and_nothing_changes(carol, loan, business_date):
    on = business_date(date(2026, 2, 1))
    quote = payoff_quote(loan=loan, on=on)
    payment_post(
        loan=loan, amount=quote.payoff_amount, effective_date=on, method="ach", acting_user=None
    )
    assert Loan.objects.get(pk=loan.pk).status == Loan.Status.PAID_OFF
    page = carol.get(f"/my-loans/{loan.pk}/").content.decode()
    assert "autopay is not available" in page
    assert "Set up autopay" not in page

    response = _enrol(carol, loan)

    assert response.status_code == 409
    assert "paid off" in response.content.decode()
    assert not AutopayEnrolment.objects.exists()
    assert _cancel(carol, loan).status_code == 409


def test_cancel_without_autopay_is_a_page_error(carol, loan):
    response = _cancel(carol, loan)
    assert response.status_code == 409
    assert "not enrolled in autopay" in response.content.decode()


def test_staff_cannot_use_the_portal_autopay(signed_in, servicing_agent, loan):
    agent = signed_in(servicing_agent)
    assert _enrol(agent, loan).status_code == 404
    assert not AutopayEnrolment.objects.exists()
