"""The borrower's loans: own loans only (another's is 404), the loan page, the one-time
payment through the rail with its confirmation step (a double submit asks once), pending
until close of business and cancellable until sent, statements, payoff letter."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

import pytest

from lendcore.core import crypto
from servicing.cob.runner import cob_run_start
from servicing.models import Installment, JournalEntry, Payment, RailTransfer
from servicing.rail_payments import rail_payments_process
from servicing.services import payment_post, statement_generate


@pytest.fixture
def carol(signed_in, borrower):
    return signed_in(borrower.user)


def _pay(
    client,
    loan,
    *,
    step,
    amount="106.62",
    method="ach",
    account="000123456789",
    routing="021000021",
    key=None,
):
    return client.post(
        f"/my-loans/{loan.pk}/pay/",
        {
            "amount": amount,
            "method": method,
            "account_number": account,
            "routing_number": routing,
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
    # the portal is for borrowers: staff get 403 and a page saying so, as on its apply pages
    response = signed_in(servicing_agent).get("/my-loans/")
    assert response.status_code == 403
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
    assert not RailTransfer.objects.exists()


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
        first = Installment.objects.get(loan=loan, schedule__is_current=True, number=1)
        # the first installment (due on the business date), in plain cents
        assert form.initial["amount"] == f"{first.total_due:.2f}" == "106.59"
        assert form["idempotency_key"].value()
        html = response.content.decode()
        for label in ("Amount", "Pay from", "Account or card number", "Routing number"):
            assert f">{label}" in html

    def test_review_step_asks_nothing_yet(self, carol, loan):
        response = _pay(carol, loan, step="review")

        html = response.content.decode()
        assert response.status_code == 200
        assert "Confirm your payment" in html
        assert 'id="confirm-amount">$106.62<' in html
        assert 'id="confirm-account">6789<' in html
        assert "settles at close of business on February 1, 2026" in html
        assert not RailTransfer.objects.exists()
        assert not Payment.objects.exists()

    def test_confirm_asks_for_the_payment_and_it_shows_pending(self, carol, loan, borrower):
        # When Carol confirms
        response = _pay(carol, loan, step="confirm")
        page = carol.get(response["Location"].split("#")[0])

        # Then a debit through the rail waits for close of business; nothing is posted
        transfer = RailTransfer.objects.get()
        assert response.status_code == 302
        assert response["Location"].endswith("#pending")
        assert (transfer.loan_id, transfer.amount, transfer.method, transfer.status) == (
            loan.pk,
            Decimal("106.62"),
            "ach",
            "requested",
        )
        assert transfer.business_date == date(2026, 2, 1)  # the business date
        assert transfer.requested_by == borrower.user
        assert not Payment.objects.exists()
        # And her loan page says so, lists it with its settlement date and a Cancel button
        html = page.content.decode()
        assert (
            "Your payment of $106.62 is pending; it settles at close of business on "
            f"February 1, 2026 (confirmation #{transfer.pk})."
        ) in html
        assert 'id="pending-table"' in html
        assert "at close of business on February 1, 2026" in html
        assert f"/my-loans/{loan.pk}/payments/{transfer.pk}/cancel/" in html
        assert "No payments yet." in html  # the history has nothing posted

    def test_a_debit_card_needs_no_routing_number(self, carol, loan):
        response = _pay(
            carol, loan, step="confirm", method="debit_card", account="4111 1111 1111 1111"
        )
        assert response.status_code == 302
        transfer = RailTransfer.objects.get()
        assert (transfer.method, transfer.account_last4, transfer.routing_number) == (
            "debit_card",
            "1111",
            "",
        )

    def test_double_submit_asks_once(self, carol, loan):
        key = str(uuid.uuid4())

        first = _pay(carol, loan, step="confirm", key=key)
        second = _pay(carol, loan, step="confirm", key=key)

        assert first.status_code == second.status_code == 302
        assert RailTransfer.objects.count() == 1

    def test_edit_goes_back_to_the_form(self, carol, loan):
        response = _pay(carol, loan, step="edit")
        assert "Review payment" in response.content.decode()
        assert not RailTransfer.objects.exists()

    @pytest.mark.parametrize(
        ("amount", "message"),
        [("0", "greater than zero"), ("-1", "greater than zero"), ("1.005", "two decimals")],
    )
    def test_bad_amount_changes_nothing(self, carol, loan, amount, message):
        before = JournalEntry.objects.count()

        response = _pay(carol, loan, step="confirm", amount=amount)

        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["amount"]
        assert message in response.content.decode()
        assert not RailTransfer.objects.exists()
        assert JournalEntry.objects.count() == before

    def test_above_the_payoff_is_an_amount_error_with_the_payoff(self, carol, loan):
        response = _pay(carol, loan, step="confirm", amount="5000.00")

        assert response.status_code == 400
        errors = response.context["form"].errors
        assert list(errors) == ["amount"]
        assert "at most the payoff today" in errors["amount"][0]
        assert not RailTransfer.objects.exists()

    @pytest.mark.parametrize("method", ["cash", "check", "wire"])
    def test_method_must_be_a_borrower_method(self, carol, loan, method):
        response = _pay(carol, loan, step="confirm", method=method)
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["method"]
        assert not RailTransfer.objects.exists()

    @pytest.mark.parametrize(
        ("change", "fields"),
        [
            ({"account": ""}, ["account_number"]),
            ({"account": "12ab"}, ["account_number"]),
            ({"routing": "1234"}, ["routing_number"]),
            ({"account": "", "routing": ""}, ["account_number", "routing_number"]),
            ({"method": "debit_card", "account": "000123456789"}, ["account_number"]),
        ],
    )
    def test_the_account_is_checked_at_review(self, carol, loan, change, fields):
        response = _pay(carol, loan, step="review", **change)
        assert response.status_code == 400
        assert sorted(response.context["form"].errors) == fields
        assert 'role="alert"' in response.content.decode()

    def test_paid_off_loan_refuses_with_409(self, carol, loan, servicing_agent):
        payment_post(
            loan=loan,
            amount=Decimal("1300.00"),
            method="wire",
            acting_user=servicing_agent,
            allow_credit=True,
        )

        response = _pay(carol, loan, step="confirm", amount="10.00")

        assert response.status_code == 409
        assert "paid off" in response.content.decode()
        assert not RailTransfer.objects.exists()


class TestPendingPayments:
    @pytest.fixture
    def transfer(self, carol, loan):
        _pay(carol, loan, step="confirm")
        return RailTransfer.objects.get()

    def _cancel(self, client, loan, transfer, key=None):
        return client.post(
            f"/my-loans/{loan.pk}/payments/{transfer.pk}/cancel/",
            {"idempotency_key": key or str(uuid.uuid4())},
        )

    def test_cancel_before_it_is_sent(self, carol, loan, transfer):
        # When Carol cancels it from her loan page
        response = self._cancel(carol, loan, transfer)
        page = carol.get(f"/my-loans/{loan.pk}/")

        # Then it is cancelled, she is told so, and it is no longer listed
        assert response.status_code == 302
        assert RailTransfer.objects.get().status == "cancelled"
        html = page.content.decode()
        assert "Your payment of $106.62 is cancelled." in html
        assert 'id="pending-table"' not in html

    def test_a_double_submit_cancels_once_and_says_so_twice(self, carol, loan, transfer):
        key = str(uuid.uuid4())
        first = self._cancel(carol, loan, transfer, key=key)
        second = self._cancel(carol, loan, transfer, key=key)
        assert first.status_code == second.status_code == 302

    def test_once_sent_the_409_is_a_page_error(self, carol, loan, transfer, settings):
        # Given close of business sent it (settling a day later)
        settings.SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS = 1
        rail_payments_process(lo=loan.pk, hi=loan.pk, on=date(2026, 2, 1))

        # When Carol tries to cancel it
        response = self._cancel(carol, loan, transfer)

        # Then the loan page says why, and it still waits to settle
        assert response.status_code == 409
        html = response.content.decode()
        assert 'id="page-error"' in html
        assert "already sent" in html
        assert "at close of business on February 2, 2026" in html
        assert f"/payments/{transfer.pk}/cancel/" not in html  # no Cancel button any more
        assert RailTransfer.objects.get().status == "pending"

    def test_another_borrowers_payment_is_404(self, signed_in, other_borrower, loan, transfer):
        client = signed_in(other_borrower.user)
        assert self._cancel(client, loan, transfer).status_code == 404
        assert RailTransfer.objects.get().status == "requested"

    def test_a_form_without_its_key_is_a_400_page_error(self, carol, loan, transfer):
        response = carol.post(f"/my-loans/{loan.pk}/payments/{transfer.pk}/cancel/", {})
        assert response.status_code == 400
        assert 'id="page-error"' in response.content.decode()
        assert RailTransfer.objects.get().status == "requested"

    def test_close_of_business_posts_it(self, carol, loan, transfer):
        # When close of business runs for the day
        assert cob_run_start(trigger="test").status == "succeeded"

        # Then her loan page shows the payment posted and the balance reduced
        html = carol.get(f"/my-loans/{loan.pk}/").content.decode()
        assert 'id="pending-table"' not in html
        assert "Posted" in html
        assert "$106.62" in html
        assert 'id="balance">$1,200.00<' not in html

    def test_the_staff_loan_page_lists_it(self, signed_in, servicing_agent, loan, transfer):
        html = signed_in(servicing_agent).get(f"/staff/loans/{loan.pk}/").content.decode()
        assert 'id="pending-payments-table"' in html
        assert f"#{transfer.pk}" in html
        assert "Bank account ****6789" in html
        assert "Requested (not sent yet)" in html
        assert "2026-02-01" in html


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


class TestNoAccountNumberInThePages:
    """Issue 10, point 10: the pay pages never write the account or routing number back."""

    def test_the_confirmation_carries_them_sealed(self, carol, loan):
        # When Carol reviews a payment from her bank account
        review = _pay(carol, loan, step="review")

        # Then the page shows the last four only; the numbers travel as one encrypted token
        html = review.content.decode()
        assert 'id="confirm-account">6789<' in html
        assert "000123456789" not in html
        assert "021000021" not in html
        sealed = re.search(r'name="sealed_account" value="([^"]+)"', html).group(1)
        assert crypto.decrypt(sealed) == "000123456789|021000021"

        # When she confirms that page (the token, not the numbers)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
        confirmed = carol.post(
            f"/my-loans/{loan.pk}/pay/",
            {
                "amount": "106.62",
                "method": "ach",
                "sealed_account": sealed,
                "idempotency_key": key,
                "step": "confirm",
            },
        )

        # Then the payment is asked for from that account
        assert confirmed.status_code == 302
        transfer = RailTransfer.objects.get()
        assert crypto.decrypt(transfer.account_encrypted) == "000123456789"
        assert transfer.routing_number == "021000021"

    def test_a_tampered_token_asks_for_the_account_again(self, carol, loan):
        response = carol.post(
            f"/my-loans/{loan.pk}/pay/",
            {
                "amount": "106.62",
                "method": "ach",
                "sealed_account": "not-a-token",
                "idempotency_key": str(uuid.uuid4()),
                "step": "confirm",
            },
        )
        assert response.status_code == 400
        assert "account_number" in response.context["form"].errors
        assert not RailTransfer.objects.exists()

    def test_going_back_or_an_error_asks_for_the_numbers_again(self, carol, loan):
        for response in (
            _pay(carol, loan, step="edit"),
            _pay(carol, loan, step="review", amount="0"),
        ):
            html = response.content.decode()
            assert "Review payment" in html
            assert "000123456789" not in html
            assert "021000021" not in html
