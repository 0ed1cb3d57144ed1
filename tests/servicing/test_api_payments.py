from datetime import date
from decimal import Decimal

import pytest

from servicing.models import Fee, JournalEntry, Loan, Payment, RailTransfer
from servicing.services import payment_post

from .factories import board_loan


@pytest.fixture
def agent_client(staff_api_client, servicing_agent):
    return staff_api_client(servicing_agent)


def _post(client, loan, body, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/loans/{loan.pk}/payments/", body, format="json", **headers)


BODY = {"amount": "106.59", "effective_date": "2026-02-01", "method": "ach", "reference": "r1"}


def test_post_payment_returns_allocation(agent_client, loan, business_date):
    business_date(date(2026, 2, 1))
    response = _post(agent_client, loan, BODY)

    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "106.59"
    assert body["status"] == "posted"
    assert body["effective_date"] == "2026-02-01"
    assert body["allocation"] == {
        "fees": "0.00",
        "interest": "12.23",
        "principal": "94.36",
        "excess": "0.00",
    }


def test_idempotency_key_required_and_replayed(agent_client, loan, business_date):
    business_date(date(2026, 2, 1))
    missing = _post(agent_client, loan, BODY, key=None)
    assert missing.status_code == 400
    assert "Idempotency-Key" in missing.json()["extra"]["fields"]

    first = _post(agent_client, loan, BODY)
    again = _post(agent_client, loan, BODY)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    different = _post(agent_client, loan, {**BODY, "amount": "5.00"})
    assert different.status_code == 422
    assert Payment.objects.count() == 1


def test_staff_payment_on_a_missing_loan_is_404_and_stores_no_answer(
    agent_client, loan, business_date
):
    """Staff see every loan: the payment's lock is the existence check (no query before it);
    its 404 is not stored against the key, as when visibility was checked first."""
    from lendcore.core.models import IdempotencyRecord

    business_date(date(2026, 2, 1))
    missing = Loan(pk=loan.pk + 1000)

    for _ in range(2):  # the same key twice: 404 each time, never replayed
        response = _post(agent_client, missing, BODY, key="k-missing")
        assert response.status_code == 404
        assert response.json()["code"] == "loan_not_found"
        assert "Idempotent-Replayed" not in response
    assert not IdempotencyRecord.objects.exists()
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"method": "bitcoin"}, "method"),
        ({"effective_date": "2026-02-02"}, "effective_date"),  # after the business date
        ({"effective_date": "2025-12-31"}, "effective_date"),  # before disbursement
    ],
)
def test_bad_payment_input_changes_nothing(agent_client, loan, business_date, change, field):
    business_date(date(2026, 2, 1))
    entries = JournalEntry.objects.count()

    response = _post(agent_client, loan, {**BODY, **change})

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert Payment.objects.count() == 0
    assert JournalEntry.objects.count() == entries


def test_outside_backdating_window(agent_client, loan, business_date, settings):
    settings.SERVICING_BACKDATE_WINDOW_DAYS = 10
    business_date(date(2026, 2, 20))
    response = _post(agent_client, loan, BODY)
    assert response.status_code == 400
    assert "backdated" in response.json()["message"]
    assert Payment.objects.count() == 0


def test_payment_to_paid_off_loan_409(agent_client, loan, business_date):
    business_date(date(2026, 2, 1))
    body = {**BODY, "amount": "1500.00", "allow_credit": True}
    assert _post(agent_client, loan, body, key="a").status_code == 201
    assert Loan.objects.get(pk=loan.pk).status == "paid_off"

    response = _post(agent_client, loan, BODY, key="b")
    assert response.status_code == 409
    assert response.json()["code"] == "loan_closed"
    assert Payment.objects.count() == 1


def test_borrower_pays_own_loan_not_others(api_client, borrower, other_borrower, business_date):
    # Given Carol's loan and Dave's, on the first due date
    mine = board_loan(borrower=borrower)
    theirs = board_loan(borrower=other_borrower)
    business_date(date(2026, 2, 1))
    api_client.force_authenticate(borrower.user)
    body = {
        "amount": "106.59",
        "method": "ach",
        "account_number": "000123456789",
        "routing_number": "021000021",
    }

    # When she pays her own loan, then a debit through the rail is pending (202), nothing posted
    response = _post(api_client, mine, body)
    assert response.status_code == 202
    assert response.json()["status"] == "requested"
    assert not Payment.objects.exists()
    # And Dave's loan is not found to her, and nothing is asked for on it
    assert _post(api_client, theirs, body, key="k-2").status_code == 404
    assert RailTransfer.objects.count() == 1
    # And she reverses no payment: reversing is staff's
    payment = payment_post(
        loan=mine, amount=Decimal("10.00"), method="check", acting_user=None, reference="mailed"
    )
    reverse = api_client.post(
        f"/api/v1/payments/{payment.pk}/reverse/", {"reason": "x"}, format="json"
    )
    assert reverse.status_code == 403


def test_staff_may_post_above_the_payoff_only_with_allow_credit(agent_client, loan, business_date):
    # Given the loan on its first due date
    business_date(date(2026, 2, 1))
    body = {**BODY, "amount": "1500.00"}

    # When staff post more than the payoff without allow_credit, then 400 names the amount
    refused = _post(agent_client, loan, body, key="a")
    assert refused.status_code == 400
    assert list(refused.json()["extra"]["fields"]) == ["amount"]
    assert "allow_credit" in refused.json()["message"]
    assert Payment.objects.count() == 0

    # When they post it with allow_credit, then the loan is paid off with the rest as credit
    posted = _post(agent_client, loan, {**body, "allow_credit": True}, key="b")
    assert posted.status_code == 201
    loan.refresh_from_db()
    assert loan.status == "paid_off"
    assert loan.credit_balance > 0


def test_staff_without_service_loans_cannot_pay(staff_api_client, loan_officer, loan):
    client = staff_api_client(loan_officer)
    assert _post(client, loan, BODY).status_code == 403


def test_reverse_nsf_via_api(agent_client, loan, business_date):
    business_date(date(2026, 2, 1))
    payment_id = _post(agent_client, loan, BODY).json()["id"]
    business_date(date(2026, 2, 3))

    response = agent_client.post(
        f"/api/v1/payments/{payment_id}/reverse/",
        {"reason": "NSF returned by bank", "nsf": True},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "reversed"
    fee = Fee.objects.get()
    assert fee.kind == "nsf"
    assert fee.amount == Decimal("25.00")
    detail = agent_client.get(f"/api/v1/loans/{loan.pk}/").json()
    assert detail["fees_balance"] == "25.00"
    assert detail["principal_balance"] == "1200.00"

    again = agent_client.post(
        f"/api/v1/payments/{payment_id}/reverse/", {"reason": "again", "nsf": True}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_reversed"
    assert Fee.objects.count() == 1
    missing_reason = agent_client.post(f"/api/v1/payments/{payment_id}/reverse/", {}, format="json")
    assert missing_reason.status_code == 400


def test_recovery_on_charged_off_loan(loan, business_date, servicing_agent, admin_user):
    from servicing.services import charge_off_decide, charge_off_request

    business_date(date(2026, 3, 15))
    charge_off_request(loan=loan, reason="uncollectable", acting_user=servicing_agent)
    charge_off_decide(loan=loan, approve=True, reason="ok", acting_user=admin_user)
    payment = payment_post(
        loan=loan,
        amount=Decimal("50.00"),
        effective_date=date(2026, 3, 15),
        method="check",
        acting_user=servicing_agent,
    )
    loan.refresh_from_db()
    assert payment.is_recovery
    assert loan.status == "charged_off"
    assert loan.principal_balance == Decimal("0.00")
    lines = payment.applications.get().entry.lines.values_list("account", "credit")
    assert ("4300", Decimal("50.00")) in list(lines)
