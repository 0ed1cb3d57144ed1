"""Races on PostgreSQL: row locks in a fixed order, idempotency under concurrent duplicates."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from servicing.models import Loan, Payment

from .factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _post(user, loan_id: int, key: str, amount: str, barrier: threading.Barrier | None = None):
    try:
        client = _client(user)
        if barrier is not None:
            barrier.wait(timeout=30)
        response = client.post(
            f"/api/v1/loans/{loan_id}/payments/",
            {"amount": amount, "method": "ach", "reference": key},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        return response.status_code, response.json()
    finally:
        connection.close()


def test_fifty_concurrent_payments_post_exactly_once(servicing_agent, borrower, business_date):
    business_date(date(2026, 1, 1))
    loan = board_loan(borrower=borrower, principal="10000.00")
    business_date(date(2026, 1, 11))

    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [
            pool.submit(_post, servicing_agent, loan.pk, f"pay-{i}", "10.00") for i in range(50)
        ]
        results = [f.result() for f in futures]

    assert [status for status, _ in results] == [201] * 50
    assert Payment.objects.filter(loan=loan).count() == 50
    loan.refresh_from_db()
    # ten days of 12 % on 10,000.00 under ACT/365F, accrued once, paid by the first payment
    interest = Decimal("32.88")
    assert sum(Decimal(body["allocation"]["interest"]) for _, body in results) == interest
    assert loan.interest_balance == Decimal("0.00")
    assert loan.principal_balance == Decimal("10000.00") - (Decimal("500.00") - interest)


def test_two_concurrent_requests_with_one_key_post_once(servicing_agent, borrower, business_date):
    business_date(date(2026, 1, 1))
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 1, 11))
    barrier = threading.Barrier(2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_post, servicing_agent, loan.pk, "same-key", "25.00", barrier)
            for _ in range(2)
        ]
        results = [f.result() for f in futures]

    assert results[0] == results[1]
    assert results[0][0] == 201
    assert Payment.objects.filter(loan=loan).count() == 1
    assert Loan.objects.get(pk=loan.pk).principal_balance == Decimal("1200.00") - (
        Decimal("25.00") - Decimal("3.95")
    )
