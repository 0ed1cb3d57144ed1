"""The PostgreSQL connection killed (`pg_terminate_backend`) in the middle of a payment, a
disbursement and a close-of-business partition: nothing of the killed transaction stays,
the client's retry with the same Idempotency-Key gets the right answer once, and the ledger
check passes after each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from lendcore.core.models import IdempotencyRecord
from lendcore.webhooks.models import Event
from origination.models import Application
from servicing.cob.runner import cob_run_start
from servicing.models import (
    CobLoanFailure,
    CobPartition,
    CobRun,
    InterestAccrual,
    JournalEntry,
    Loan,
    Payment,
    RailTransfer,
)
from servicing.selectors import business_date_get
from tests.cob.scenario import D
from tests.cob.test_cob_eager import assert_day_closed
from tests.servicing.factories import board_loan

from .conftest import assert_ledger_sound, backend_killed_after

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Where a payment's transaction is cut: early (the day's accrual journal entry is written,
# the payment not yet) and late (the payment, its journal entry, allocation and loan update
# and its outbox event are written; only the idempotent answer and COMMIT are left).
PAYMENT_CUTS = {
    "after_accrual_entry": 'INSERT INTO "servicing_journalentry"',
    "after_outbox_event": 'INSERT INTO "webhooks_event"',
}


def _client(user) -> APIClient:
    # a dead connection is an exception in the view: the client sees the 500, as over HTTP
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def _loan_state(loan_id: int) -> tuple:
    loan = Loan.objects.get(pk=loan_id)
    return (
        loan.principal_balance,
        loan.interest_balance,
        loan.fees_balance,
        loan.last_accrual_date,
        Payment.objects.filter(loan_id=loan_id).count(),
        JournalEntry.objects.filter(loan_id=loan_id).count(),
        Event.objects.filter(loan_id=loan_id).count(),
    )


@pytest.mark.parametrize("cut", PAYMENT_CUTS)
def test_a_payment_cut_off_mid_transaction_leaves_nothing_and_its_retry_posts_once(
    cut, servicing_agent, borrower, business_date
):
    # Given a loan ten days into its life
    loan = board_loan(borrower=borrower, principal="1200.00")
    business_date(date(2026, 1, 11))
    before = _loan_state(loan.pk)
    trial_before = assert_ledger_sound()
    client = _client(servicing_agent)
    url = f"/api/v1/loans/{loan.pk}/payments/"
    body = {"amount": "25.00", "method": "ach", "reference": "fault"}

    # When the database connection is terminated in the middle of the payment's transaction
    with backend_killed_after(PAYMENT_CUTS[cut]) as killed:
        first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-fault-1")

    # Then the client got an error, and nothing of the payment was kept
    assert killed, "the fault was not injected"
    assert first.status_code == 500
    assert _loan_state(loan.pk) == before
    assert not IdempotencyRecord.objects.filter(key="pay-fault-1").exists()
    assert assert_ledger_sound() == trial_before

    # When the client retries with the same key, and once more
    retry = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-fault-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-fault-1")

    # Then the payment is posted once: the second retry is the first answer replayed
    assert retry.status_code == 201, retry.content
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json()
    payment = Payment.objects.get(loan=loan)
    assert payment.pk == retry.json()["id"]
    assert payment.amount == Decimal("25.00")
    # ten days of 12 % on 1,200.00 (ACT/365F) paid first, the rest to principal
    loan.refresh_from_db()
    assert loan.interest_balance == Decimal("0.00")
    assert loan.principal_balance == Decimal("1200.00") - (Decimal("25.00") - Decimal("3.95"))
    assert Event.objects.filter(loan_id=loan.pk, type="payment.posted").count() == 1
    trial_after = assert_ledger_sound()
    assert trial_after != trial_before


def test_a_disbursement_cut_off_mid_transaction_boards_nothing_and_its_retry_boards_one_loan(
    accepted, loan_officer
):
    # Given an accepted offer with its disbursement account recorded
    application = accepted()
    client = _client(loan_officer)
    url = f"/api/v1/applications/{application.pk}/disburse/"
    body = {"method": "ach", "reference": "ACH-FAULT-1"}
    trial_before = assert_ledger_sound()

    # When the connection is terminated once the loan and its disbursement entry are written
    with backend_killed_after('INSERT INTO "webhooks_event"') as killed:
        first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="disb-fault-1")

    # Then the client got an error; no loan, no journal entry, the application still accepted
    assert killed, "the fault was not injected"
    assert first.status_code == 500
    assert not Loan.objects.exists()
    assert not JournalEntry.objects.exists()
    assert not Event.objects.filter(type="loan.disbursed").exists()
    application.refresh_from_db()
    assert application.status == Application.Status.OFFER_ACCEPTED
    assert application.loan_id is None
    assert not IdempotencyRecord.objects.filter(key="disb-fault-1").exists()
    assert assert_ledger_sound() == trial_before

    # When the client retries with the same key, and once more
    retry = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="disb-fault-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="disb-fault-1")

    # Then one loan is boarded, and the second retry replays the first answer
    assert retry.status_code == 200, retry.content
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json()
    loan = Loan.objects.get()
    application.refresh_from_db()
    assert application.status == Application.Status.DISBURSED
    assert application.loan_id == loan.pk
    assert loan.principal_balance == application.offer.note_principal
    assert Event.objects.filter(type="loan.disbursed").count() == 1
    assert assert_ledger_sound() != trial_before


def test_a_cob_partition_cut_off_mid_transaction_is_closed_once_loan_by_loan(book):
    # Given the hand-built book on its business date, closed by one partition
    trial_before = assert_ledger_sound()

    # When the partition's transaction loses its connection once its accruals are written
    with backend_killed_after("INSERT INTO servicing_interestaccrual") as killed:
        run = cob_run_start(trigger="test")

    # Then the partition's fallback closed each loan on a new connection, once: the killed
    # transaction left nothing behind (a second accrual row per loan and date is refused)
    assert killed, "the fault was not injected"
    assert run.status == CobRun.Status.SUCCEEDED, run.error
    assert CobPartition.objects.get(run=run).status == CobPartition.Status.DONE
    assert not CobLoanFailure.objects.filter(run=run, resolved=False).exists()
    assert_day_closed(book, reminders_sent=True)
    active = Loan.objects.filter(status=Loan.Status.ACTIVE).count()
    assert InterestAccrual.objects.filter(date=D, reversed=False).count() == active
    assert business_date_get() == date(2026, 6, 16)
    assert assert_ledger_sound() != trial_before


def test_a_cob_partition_cut_off_while_posting_autopay_closes_nothing_until_resumed(book):
    # Given the hand-built book on its business date, with two autopay installments due
    autopay = [book.loans["autopay_ok"].pk, book.loans["autopay_nsf"].pk]
    trial_before = assert_ledger_sound()
    accruals_before = InterestAccrual.objects.count()

    # When the connection is lost in the transaction that posts the day's autopay debits
    # (after the rail debited the accounts: their transfers are recorded first)
    with backend_killed_after('INSERT INTO "servicing_payment"') as killed:
        run = cob_run_start(trigger="test")

    # Then the run failed and its partition is not done: no loan closed, no payment, nothing
    # accrued, the business date not advanced; the debits wait, sent and unposted
    assert killed, "the fault was not injected"
    assert run.status == CobRun.Status.FAILED
    partition = CobPartition.objects.get(run=run)
    assert partition.status == CobPartition.Status.FAILED
    assert "no loan of this partition was closed" in partition.error
    assert not Loan.objects.filter(last_closed_on=D).exists()
    assert not Payment.objects.filter(loan_id__in=autopay, effective_date=D).exists()
    assert InterestAccrual.objects.count() == accruals_before
    transfers = RailTransfer.objects.filter(loan_id__in=autopay, business_date=D)
    assert transfers.count() == 2
    assert all(t.rail_reference and t.payment_id is None for t in transfers)
    assert business_date_get() == D
    assert assert_ledger_sound() == trial_before

    # When close of business is started again with the database back
    resumed = cob_run_start(trigger="test")

    # Then the same run finishes the day; each debit is posted once, and only once
    assert resumed.pk == run.pk
    assert resumed.status == CobRun.Status.SUCCEEDED, resumed.error
    assert resumed.attempts == 2
    assert_day_closed(book, reminders_sent=True)
    for transfer in RailTransfer.objects.filter(loan_id__in=autopay, business_date=D):
        assert transfer.payment_id is not None
    assert Payment.objects.filter(loan_id__in=autopay, effective_date=D).count() == 2
    assert business_date_get() == date(2026, 6, 16)
    assert_ledger_sound()
