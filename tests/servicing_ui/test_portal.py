"""The borrower's loans: own loans only (another's is 404), the loan page, the one-time
payment with its confirmation step (a double submit posts once), statements, payoff letter."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from servicing.models import JournalEntry, Payment
from servicing.services import statement_generate


@pytest.fixture
def carol(signed_in, borrower):
    return signed_in(borrower.user)


def _pay(client, loan, *, step, amount="106.62", method="ach", key=None):
    return client.post(
        f"/my-loans/{loan.pk}/pay/",
        {
            "amount": amount,
            "method": method,
            "idempotency_key": key or str(uuid.uuid4()),
            "step": step,
        },
    )


def test_my_loans_needs_login(client, db):
    assert client.get("/my-loans/").status_code == 302


def test_my_loans_lists_only_mine(carol, loan, other_loan):
    html = carol.get("/my-loans/").content.decode()

    assert loan.loan_number in html
    assert other_loan.loan_number not in html
    assert "Make a payment" in html


def test_staff_without_a_borrower_profile_see_no_loans(signed_in, servicing_agent, loan):
    response = signed_in(servicing_agent).get("/my-loans/")
    assert response.status_code == 200
    assert loan.loan_number not in response.content.decode()
    assert signed_in(servicing_agent).get(f"/my-loans/{loan.pk}/").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/my-loans/{id}/", "/my-loans/{id}/pay/", "/my-loans/{id}/payoff-quote/?date=2026-02-05"],
)
def test_another_borrowers_loan_is_404(carol, other_loan, path):
    assert carol.get(path.format(id=other_loan.pk)).status_code == 404


def test_paying_another_borrowers_loan_is_404_and_posts_nothing(carol, other_loan):
    response = _pay(carol, other_loan, step="confirm")
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_loan_page_shows_next_payment_balance_payoff_and_schedule(carol, loan):
    response = carol.get(f"/my-loans/{loan.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="balance">$1,200.00<' in html
    assert 'id="next-payment">$' in html
    assert "Payoff today" in html
    assert html.count("<tr><td>") >= 12  # one row per installment
    assert "No payments yet." in html


class TestOneTimePayment:
    def test_form_suggests_the_next_payment(self, carol, loan):
        response = carol.get(f"/my-loans/{loan.pk}/pay/")
        assert response.status_code == 200
        form = response.context["form"]
        assert form.initial["amount"] == "106.62"  # the first installment, in plain cents
        assert form["idempotency_key"].value()

    def test_review_step_posts_nothing(self, carol, loan):
        response = _pay(carol, loan, step="review")

        assert response.status_code == 200
        assert "Confirm your payment" in response.content.decode()
        assert 'id="confirm-amount">$106.62<' in response.content.decode()
        assert not Payment.objects.exists()

    def test_confirm_posts_and_the_payment_shows(self, carol, loan, borrower):
        response = _pay(carol, loan, step="confirm")
        page = carol.get(response["Location"].split("#")[0])

        payment = Payment.objects.get()
        assert response.status_code == 302
        assert (payment.loan_id, payment.amount, payment.method) == (
            loan.pk,
            Decimal("106.62"),
            "ach",
        )
        assert payment.effective_date == date(2026, 2, 1)  # the business date
        assert payment.created_by == borrower.user
        html = page.content.decode()
        assert f"confirmation #{payment.pk}" in html
        assert "$106.62" in html

    def test_double_submit_posts_once(self, carol, loan):
        key = str(uuid.uuid4())

        first = _pay(carol, loan, step="confirm", key=key)
        second = _pay(carol, loan, step="confirm", key=key)

        assert first.status_code == second.status_code == 302
        assert Payment.objects.count() == 1

    def test_edit_goes_back_to_the_form(self, carol, loan):
        response = _pay(carol, loan, step="edit")
        assert "Review payment" in response.content.decode()
        assert not Payment.objects.exists()

    @pytest.mark.parametrize(
        ("amount", "message"),
        [("0", "greater than zero"), ("-1", "greater than zero"), ("1.005", "two decimals")],
    )
    def test_bad_amount_changes_nothing(self, carol, loan, amount, message):
        before = JournalEntry.objects.count()

        response = _pay(carol, loan, step="confirm", amount=amount)

        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Payment.objects.exists()
        assert JournalEntry.objects.count() == before

    def test_method_must_be_a_borrower_method(self, carol, loan):
        response = _pay(carol, loan, step="confirm", method="cash")
        assert response.status_code == 400
        assert not Payment.objects.exists()

    def test_paid_off_loan_refuses_with_409(self, carol, loan):
        _pay(carol, loan, step="confirm", amount="1300.00")

        response = _pay(carol, loan, step="confirm", amount="10.00")

        assert response.status_code == 409
        assert "paid off" in response.content.decode()
        assert Payment.objects.count() == 1


class TestStatements:
    @pytest.fixture
    def statement(self, loan, settings, tmp_path):
        """January's statement, through the core's generator (a real WeasyPrint PDF)."""
        settings.MEDIA_ROOT = str(tmp_path)
        return statement_generate(loan=loan, period_end=date(2026, 1, 31))

    def test_listed_and_downloadable_as_attachment(self, carol, loan, statement):
        page = carol.get(f"/my-loans/{loan.pk}/").content.decode()
        response = carol.get(f"/my-loans/statements/{statement.pk}/download/")

        assert f"/my-loans/statements/{statement.pk}/download/" in page
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert b"".join(response.streaming_content).startswith(b"%PDF")

    def test_another_borrower_gets_404(self, signed_in, other_borrower, statement):
        client = signed_in(other_borrower.user)
        assert client.get(f"/my-loans/statements/{statement.pk}/download/").status_code == 404

    def test_staff_download_from_the_loan_page(self, signed_in, servicing_agent, statement):
        response = signed_in(servicing_agent).get(f"/staff/statements/{statement.pk}/download/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"


class TestPayoff:
    def test_quote_on_the_page(self, carol, loan):
        response = carol.get(f"/my-loans/{loan.pk}/payoff-quote/", {"date": "2026-02-10"})
        assert response.status_code == 200
        assert 'id="payoff-amount">$' in response.content.decode()

    def test_letter_is_a_pdf(self, carol, loan):
        response = carol.get(
            f"/my-loans/{loan.pk}/payoff-quote/", {"date": "2026-02-10", "format": "pdf"}
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response.content.startswith(b"%PDF")

    def test_past_date_is_refused(self, carol, loan):
        response = carol.get(f"/my-loans/{loan.pk}/payoff-quote/", {"date": "2026-01-15"})
        assert response.status_code == 400
        assert response.context["quote"] is None

    def test_missing_date_is_a_form_error(self, carol, loan):
        response = carol.get(f"/my-loans/{loan.pk}/payoff-quote/")
        assert response.status_code == 400
        assert "Enter the payoff date." in response.content.decode()
