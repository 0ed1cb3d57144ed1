"""Races of the borrowers' rail payments on PostgreSQL: the loan's row lock serializes a
request against another (the payoff limit holds), a cancel against close of business
sending it, and duplicates of one Idempotency-Key ask once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from rest_framework.test import APIClient

from lendcore.errors import ApplicationError
from servicing.models import Loan, Payment, RailTransfer
from servicing.payoff import payoff_amount_on
from servicing.rail_payments import (
    payment_request_cancel,
    payment_request_create,
    rail_payments_process,
)

from .factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = date(2026, 2, 1)
ACH = {"method": "ach", "account_number": "000123456789", "routing_number": "021000021"}


@pytest.fixture
def due(borrower, business_date):
    business_date(date(2026, 1, 1))
    loan = board_loan(borrower=borrower)
    business_date(D)
    return loan


def _pay(user, loan_id: int, key: str, amount: str, barrier: threading.Barrier):
    try:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait(timeout=30)
        response = client.post(
            f"/api/v1/loans/{loan_id}/payments/",
            {"amount": amount, **ACH},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        return response.status_code, response.json()
    finally:
        connection.close()


def test_two_requests_of_the_whole_payoff_at_once_ask_once(due, borrower):
    # Given two requests of the whole payoff sent at the same moment
    payoff = str(payoff_amount_on(Loan.objects.get(pk=due.pk), D))
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_pay, borrower.user, due.pk, f"k-{i}", payoff, barrier) for i in range(2)
        ]
        results = sorted(f.result()[0] for f in futures)

    # Then the second waits for the first's lock and finds the payoff already on its way
    assert results == [202, 400]
    assert RailTransfer.objects.filter(loan=due).count() == 1


def test_duplicates_of_one_key_ask_once(due, borrower):
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_pay, borrower.user, due.pk, "same", "10.00", barrier) for _ in range(2)
        ]
        results = [f.result() for f in futures]

    assert results[0] == results[1]
    assert results[0][0] == 202
    assert RailTransfer.objects.filter(loan=due).count() == 1


def test_a_cancel_racing_close_of_business_either_cancels_or_is_refused(due, borrower):
    # Given a request, and a cancel sent while close of business sends the day's payments
    transfer = payment_request_create(loan=due, amount="10.00", acting_user=borrower.user, **ACH)
    barrier = threading.Barrier(2)

    def cancel():
        try:
            barrier.wait(timeout=30)
            payment_request_cancel(transfer=transfer, acting_user=borrower.user)
            return "cancelled"
        except ApplicationError as error:
            return error.http_status
        finally:
            connection.close()

    def close():
        try:
            barrier.wait(timeout=30)
            return rail_payments_process(lo=due.pk, hi=due.pk, on=D)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        cancelled, counts = pool.submit(cancel), pool.submit(close)
        outcome, counts = cancelled.result(), counts.result()

    # Then exactly one of them won: cancelled and never sent, or sent, posted and refused 409
    transfer.refresh_from_db()
    if outcome == "cancelled":
        assert transfer.status == "cancelled"
        assert transfer.rail_reference == ""
        assert counts["sent"] == 0
        assert not Payment.objects.exists()
    else:
        assert outcome == 409
        assert transfer.status == "settled"
        assert Payment.objects.count() == 1
