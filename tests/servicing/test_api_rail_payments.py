"""The borrower's payments over the API: POST /loans/{id}/payments/ asks for a debit through
the payment rail (202, the pending payment), GET /loans/{id}/pending-payments/ lists them,
POST /pending-payments/{id}/cancel/ cancels one not sent yet. Staff still post (201)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lendcore.accounts.services import api_token_issue
from servicing.cob.runner import cob_run_start
from servicing.models import Payment, RailTransfer
from servicing.payoff import payoff_amount_on
from servicing.services import payment_post

from .factories import board_loan

D = date(2026, 2, 1)
ACH = {
    "amount": "106.62",
    "method": "ach",
    "account_number": "000123456789",
    "routing_number": "021000021",
}
CARD = {"amount": "106.62", "method": "debit_card", "account_number": "4111111111111111"}
SHAPE = {
    "id",
    "loan_id",
    "amount",
    "method",
    "status",
    "account_last4",
    "requested_on",
    "expected_settlement_date",
    "cancellable",
    "payment_id",
    "return_code",
}


@pytest.fixture
def carol(api_client, borrower):
    api_client.force_authenticate(borrower.user)
    return api_client


@pytest.fixture
def due(business_date, loan):
    business_date(D)
    return loan


def _pay(client, loan, body, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/loans/{loan.pk}/payments/", body, format="json", **headers)


def _cancel(client, transfer_id, **headers):
    return client.post(f"/api/v1/pending-payments/{transfer_id}/cancel/", **headers)


def _fields(response) -> list[str]:
    return sorted(response.json()["extra"]["fields"])


# --------------------------------------------------------------------------- POST payments


def test_a_borrower_payment_is_pending_202(carol, due):
    # When Carol pays the installment from her bank account
    response = _pay(carol, due, ACH)

    # Then 202 with the pending payment; nothing is posted
    assert response.status_code == 202
    body = response.json()
    transfer = RailTransfer.objects.get()
    assert set(body) == SHAPE
    assert body == {
        "id": transfer.pk,
        "loan_id": due.pk,
        "amount": "106.62",
        "method": "ach",
        "status": "requested",
        "account_last4": "6789",
        "requested_on": "2026-02-01",
        "expected_settlement_date": "2026-02-01",
        "cancellable": True,
        "payment_id": None,
        "return_code": "",
    }
    assert not Payment.objects.exists()


def test_a_borrower_pays_with_a_token_by_debit_card(api_client, borrower, due):
    token = api_token_issue(user=borrower.user).key
    response = api_client.post(
        f"/api/v1/loans/{due.pk}/payments/",
        CARD,
        format="json",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_IDEMPOTENCY_KEY="t-1",
    )
    assert response.status_code == 202
    assert (response.json()["method"], response.json()["account_last4"]) == ("debit_card", "1111")


def test_a_retry_replays_the_202_and_asks_once(carol, due):
    first = _pay(carol, due, ACH)
    again = _pay(carol, due, ACH)
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _pay(carol, due, {**ACH, "amount": "5.00"}).status_code == 422
    assert RailTransfer.objects.count() == 1


def test_the_idempotency_key_is_required(carol, due):
    response = _pay(carol, due, ACH, key=None)
    assert response.status_code == 400
    assert _fields(response) == ["Idempotency-Key"]
    assert not RailTransfer.objects.exists()


@pytest.mark.parametrize("method", ["cash", "check", "wire"])
def test_a_borrower_cannot_pay_by_staff_methods(carol, due, method):
    response = _pay(carol, due, {**ACH, "method": method})
    assert response.status_code == 400
    assert _fields(response) == ["method"]
    assert "Staff post cash, check and wire payments" in response.json()["message"]
    assert not RailTransfer.objects.exists()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"amount": "0.00"}, ["amount"]),
        ({"amount": "-5.00"}, ["amount"]),
        ({"amount": "1.001"}, ["amount"]),
        ({"amount": "1000000000.00"}, ["amount"]),  # above MONEY_MAX
        ({"method": "bitcoin"}, ["method"]),
        ({"account_number": ""}, ["account_number"]),
        ({"account_number": "12"}, ["account_number"]),
        ({"routing_number": "12345678"}, ["routing_number"]),
        ({"routing_number": "021000022"}, ["routing_number"]),  # its check digit is off
        ({"routing_number": ""}, ["routing_number"]),
        ({"account_number": "1" * 41}, ["account_number"]),  # longer than any number
        ({"effective_date": "2026-01-20"}, ["effective_date"]),  # not the business date
        ({"allow_credit": True}, ["allow_credit"]),
    ],
)
def test_bad_input_names_the_field_and_asks_nothing(carol, due, change, fields):
    response = _pay(carol, due, {**ACH, **change})
    assert response.status_code == 400
    assert _fields(response) == fields
    assert not RailTransfer.objects.exists()


def test_a_card_without_enough_digits(carol, due):
    response = _pay(carol, due, {**CARD, "account_number": "411111111111"})
    assert response.status_code == 400
    assert _fields(response) == ["account_number"]
    assert "13 to 19 digits" in response.json()["message"]


def test_above_the_payoff_names_the_amount_with_the_payoff(carol, due):
    payoff = payoff_amount_on(due, D)
    response = _pay(carol, due, {**ACH, "amount": str(payoff + Decimal("0.01"))})
    assert response.status_code == 400
    assert _fields(response) == ["amount"]
    assert f"{payoff:,.2f}" in response.json()["message"]
    assert not RailTransfer.objects.exists()


def test_the_business_date_as_effective_date_is_fine(carol, due):
    assert _pay(carol, due, {**ACH, "effective_date": "2026-02-01"}).status_code == 202


def test_a_paid_off_loan_is_409(carol, due, servicing_agent):
    payment_post(
        loan=due, amount=Decimal("1300.00"), method="wire", acting_user=servicing_agent,
        allow_credit=True,
    )  # fmt: skip
    response = _pay(carol, due, {**ACH, "amount": "10.00"})
    assert response.status_code == 409
    assert response.json()["code"] == "loan_closed"
    assert not RailTransfer.objects.exists()


def test_another_borrowers_loan_is_404(carol, business_date, other_borrower):
    theirs = board_loan(borrower=other_borrower)
    business_date(D)
    response = _pay(carol, theirs, ACH)
    assert response.status_code == 404
    assert not RailTransfer.objects.exists()


def test_staff_still_post_201_and_ask_the_rail_nothing(staff_api_client, servicing_agent, due):
    response = _pay(staff_api_client(servicing_agent), due, {**ACH, "reference": "counter"})
    assert response.status_code == 201
    assert response.json()["status"] == "posted"
    assert Payment.objects.get().created_by == servicing_agent
    assert not RailTransfer.objects.exists()


# --------------------------------------------------------------------------- GET the list


def test_the_list_is_newest_first_with_settlement_dates(carol, due, django_assert_num_queries):
    # Given two requests, the first cancelled
    first = _pay(carol, due, {**ACH, "amount": "10.00"}, key="a").json()
    second = _pay(carol, due, {**CARD, "amount": "20.00"}, key="b").json()
    _cancel(carol, first["id"])

    # When Carol lists them
    # the business date and the visible loan (its borrower joined), the count, the page, the
    # business date of the settlement dates: as many for any number of payments
    with django_assert_num_queries(5):
        response = carol.get(f"/api/v1/loans/{due.pk}/pending-payments/")

    # Then newest first, each with its status, settlement date and whether it can be cancelled
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = body["results"]
    assert [(r["id"], r["status"], r["cancellable"]) for r in rows] == [
        (second["id"], "requested", True),
        (first["id"], "cancelled", False),
    ]
    assert rows[0]["expected_settlement_date"] == "2026-02-01"
    assert rows[1]["expected_settlement_date"] is None
    assert all(set(r) == SHAPE for r in rows)


def test_the_list_shows_the_payment_once_settled(carol, due):
    _pay(carol, due, ACH)
    assert cob_run_start(trigger="test").status == "succeeded"
    row = carol.get(f"/api/v1/loans/{due.pk}/pending-payments/").json()["results"][0]
    payment = Payment.objects.get()
    assert (row["status"], row["payment_id"], row["cancellable"]) == ("settled", payment.pk, False)


def test_another_borrowers_list_is_404(carol, business_date, other_borrower):
    theirs = board_loan(borrower=other_borrower)
    assert carol.get(f"/api/v1/loans/{theirs.pk}/pending-payments/").status_code == 404


def test_staff_see_the_list(carol, due, staff_api_client, servicing_agent):
    _pay(carol, due, ACH)
    response = staff_api_client(servicing_agent).get(f"/api/v1/loans/{due.pk}/pending-payments/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


# --------------------------------------------------------------------------- cancel


def test_cancel_answers_the_cancelled_payment(carol, due):
    transfer_id = _pay(carol, due, ACH).json()["id"]

    response = _cancel(carol, transfer_id)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SHAPE
    assert (body["id"], body["status"], body["cancellable"]) == (transfer_id, "cancelled", False)
    assert body["expected_settlement_date"] is None
    again = _cancel(carol, transfer_id)
    assert again.status_code == 409
    assert again.json()["code"] == "payment_request_not_cancellable"


def test_cancel_with_a_key_replays(carol, due):
    transfer_id = _pay(carol, due, ACH).json()["id"]
    first = _cancel(carol, transfer_id, HTTP_IDEMPOTENCY_KEY="c-1")
    again = _cancel(carol, transfer_id, HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_cancel_once_sent_or_settled_is_409(carol, due):
    transfer_id = _pay(carol, due, ACH).json()["id"]
    assert cob_run_start(trigger="test").status == "succeeded"

    response = _cancel(carol, transfer_id)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_request_not_cancellable"
    assert RailTransfer.objects.get().status == "settled"


def test_cancel_of_another_borrowers_payment_is_404(
    carol, api_client, due, other_borrower, borrower
):
    transfer_id = _pay(carol, due, ACH).json()["id"]
    api_client.force_authenticate(other_borrower.user)
    assert _cancel(api_client, transfer_id).status_code == 404
    assert _cancel(api_client, 99999999999999999999).status_code == 404
    assert RailTransfer.objects.get().status == "requested"


def test_staff_cancel_with_service_loans_only(
    carol, due, staff_api_client, servicing_agent, loan_officer
):
    transfer_id = _pay(carol, due, ACH).json()["id"]
    assert _cancel(staff_api_client(loan_officer), transfer_id).status_code == 403
    assert _cancel(staff_api_client(servicing_agent), transfer_id).status_code == 200


# --------------------------------------------------------------------------- schema


def test_the_schema_says_what_the_code_does(api_client, servicing_agent):
    api_client.force_authenticate(servicing_agent)
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    post = schema["paths"]["/api/v1/loans/{loan_id}/payments/"]["post"]
    assert {code for code in post["responses"] if code < "300"} == {"201", "202"}
    assert post["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PendingPayment"
    )
    request = schema["components"]["schemas"]["PaymentCreateInputRequest"]["properties"]
    assert request["account_number"]["writeOnly"] is True
    assert "Borrowers: required" in request["account_number"]["description"]
    assert request["amount"]["maximum"] == 999999999.99
    assert request["amount"]["minimum"] == 0.01
    output = schema["components"]["schemas"]["PendingPayment"]["properties"]
    assert set(output) == SHAPE
    assert "account_number" not in output
    listed = schema["paths"]["/api/v1/loans/{loan_id}/pending-payments/"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"limit", "offset"}
    cancel = schema["paths"]["/api/v1/pending-payments/{transfer_id}/cancel/"]["post"]
    assert {code for code in cancel["responses"] if code < "300"} == {"200"}
