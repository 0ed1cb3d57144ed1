"""COB's batched autopay posting writes exactly what `payment_post` writes for the same
payment, and hands every other debit to `payment_post`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicing.autopay import autopay_enrol
from servicing.cob import autopay
from servicing.cob.autopay import autopay_collect, autopay_settle
from servicing.fees import fee_assess
from servicing.ledger import ledger_problems
from servicing.models import (
    Installment,
    InterestAccrual,
    JournalLine,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
    RailTransfer,
)
from servicing.services import business_date_set, payment_post
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db

D = date(2026, 6, 15)


def _posting(loan_id: int) -> dict:
    """Everything a payment writes for the loan, without ids and references."""
    number = dict(Installment.objects.filter(loan_id=loan_id).values_list("pk", "number"))
    payment = Payment.objects.get(loan_id=loan_id)
    application = PaymentApplication.objects.get(loan_id=loan_id)
    detail = [{**item, "installment": number[item["installment"]]} for item in application.detail]
    loan = Loan.objects.get(pk=loan_id)
    event = LoanEvent.objects.get(loan_id=loan_id, kind="payment")
    return {
        "payment": (
            payment.amount,
            payment.effective_date,
            payment.method,
            payment.status,
            payment.posted_on,
            payment.alloc_fees,
            payment.alloc_interest,
            payment.alloc_principal,
            payment.alloc_excess,
            payment.alloc_credit,
        ),
        "application": (
            application.fees,
            application.interest,
            application.principal,
            application.excess,
            application.credit,
            application.effective_date,
            detail,
        ),
        "installments": list(
            Installment.objects.filter(loan_id=loan_id)
            .order_by("number")
            .values_list(
                "number",
                "principal_paid",
                "interest_paid",
                "fee_paid",
                "cancelled",
                "status",
                "paid_on",
            )
        ),
        "loan": (
            loan.status,
            loan.principal_balance,
            loan.interest_balance,
            loan.fees_balance,
            loan.credit_balance,
            loan.oldest_unpaid_due_date,
            loan.accrued_interest_exact,
            loan.accrued_interest_posted,
            loan.last_accrual_date,
        ),
        "lines": sorted(
            JournalLine.objects.filter(loan_id=loan_id).values_list(
                "entry__entry_type", "entry__effective_date", "account", "debit", "credit"
            )
        ),
        "accruals": list(
            InterestAccrual.objects.filter(loan_id=loan_id)
            .order_by("date")
            .values_list("date", "amount_exact", "cumulative_exact", "posted", "reversed")
        ),
        "event": {k: v for k, v in event.data.items() if k != "payment"},
    }


@pytest.mark.parametrize("interest_model", ["daily_simple", "scheduled"])
def test_batched_autopay_writes_what_payment_post_writes(borrower, monkeypatch, interest_model):
    business_date_set(business_date=date(2026, 5, 15), acting_user=None)
    manual, batched = (
        board_loan(
            borrower=borrower,
            application_ref=f"AP-{interest_model}-{name}",
            disbursed_on=date(2026, 5, 15),
            interest_model=interest_model,
        )
        for name in ("manual", "batched")
    )
    autopay_enrol(loan=batched, account_number="123456789", routing_number="021000021")
    business_date_set(business_date=D, acting_user=None)

    # Given the payment posted one by one on one loan
    first = Installment.objects.get(loan=manual, number=1, schedule__is_current=True)
    payment_post(
        loan=manual, amount=first.remaining, effective_date=D, method="ach", acting_user=None
    )

    # When autopay debits the twin loan's installment, with payment_post out of reach
    def no_single_posting(**kwargs):
        raise AssertionError("the regular debit should post in the batch")

    monkeypatch.setattr(autopay, "payment_post", no_single_posting)
    assert autopay_collect(lo=batched.pk, hi=batched.pk, on=D) == 1

    # Then both loans hold the same rows, the transfer is linked, the ledger reconciles
    assert _posting(batched.pk) == _posting(manual.pk)
    transfer = RailTransfer.objects.get(loan=batched)
    assert transfer.payment == Payment.objects.get(loan=batched)
    assert transfer.payment.reference == f"AUTOPAY-{transfer.pk}"
    assert ledger_problems() == []
    # and the same webhook event (payment.posted), but for its ids and reference
    from lendcore.webhooks.models import Event

    def posted(loan) -> dict:
        event = Event.objects.get(type="payment.posted", loan_id=loan.pk)
        skip = {"loan_id", "loan_number", "payment_id", "reference", "method"}
        return {k: v for k, v in event.payload.items() if k not in skip}

    assert posted(batched) == posted(manual)

    # And a second collection posts nothing more
    assert autopay_collect(lo=batched.pk, hi=batched.pk, on=D) == 0
    assert Payment.objects.filter(loan=batched).count() == 1


def test_a_debit_on_a_loan_behind_goes_through_payment_post(borrower, monkeypatch):
    business_date_set(business_date=date(2026, 4, 15), acting_user=None)
    behind = board_loan(
        borrower=borrower, application_ref="AP-behind", disbursed_on=date(2026, 4, 15)
    )
    autopay_enrol(loan=behind, account_number="123456789", routing_number="021000021")
    business_date_set(business_date=D, acting_user=None)  # the 05-15 installment is unpaid
    calls = []
    real = autopay.payment_post

    def counting(**kwargs):
        calls.append(kwargs["reference"])
        return real(**kwargs)

    monkeypatch.setattr(autopay, "payment_post", counting)
    assert autopay_collect(lo=behind.pk, hi=behind.pk, on=D) == 1
    transfer = RailTransfer.objects.get(loan=behind)
    assert calls == [f"AUTOPAY-{transfer.pk}"]
    assert transfer.payment is not None
    assert ledger_problems() == []


def test_regular_debits_of_a_range_post_together(borrower, django_assert_max_num_queries):
    business_date_set(business_date=date(2026, 5, 15), acting_user=None)
    loans = [
        board_loan(
            borrower=borrower, application_ref=f"AP-many-{n}", disbursed_on=date(2026, 5, 15)
        )
        for n in range(6)
    ]
    for loan in loans:
        autopay_enrol(loan=loan, account_number="123456789", routing_number="021000021")
    business_date_set(business_date=D, acting_user=None)
    ids = [loan.pk for loan in loans]
    # a constant number of queries, whatever the number of loans
    with django_assert_max_num_queries(40):
        assert autopay_collect(lo=min(ids), hi=max(ids), on=D) == 6
    assert Payment.objects.filter(loan_id__in=ids).count() == 6
    assert ledger_problems() == []


def test_autopay_debits_the_installment_the_past_due_and_the_fees(borrower, servicing_agent):
    # Given an autopay loan whose 05-15 installment is unpaid and which owes a 20.00 fee
    business_date_set(business_date=date(2026, 4, 15), acting_user=None)
    behind = board_loan(
        borrower=borrower, application_ref="AP-owes", disbursed_on=date(2026, 4, 15)
    )
    autopay_enrol(loan=behind, account_number="123456789", routing_number="021000021")
    business_date_set(business_date=D, acting_user=None)
    fee_assess(
        loan=behind,
        kind="manual",
        amount=Decimal("20.00"),
        reason="copy",
        acting_user=servicing_agent,
    )
    due = Installment.objects.filter(loan=behind, schedule__is_current=True).order_by("number")
    first, second = due[0], due[1]

    # When autopay collects on the 06-15 due date
    assert autopay_collect(lo=behind.pk, hi=behind.pk, on=D) == 1

    # Then it debited both installments and the fee, and the loan is current and owes no fee
    transfer = RailTransfer.objects.get(loan=behind)
    assert transfer.amount == first.remaining + second.remaining + Decimal("20.00")
    behind.refresh_from_db()
    assert behind.fees_balance == Decimal("0.00")
    assert (
        not Installment.objects.filter(loan=behind, schedule__is_current=True, due_date__lte=D)
        .exclude(status="paid")
        .exists()
    )
    assert ledger_problems() == []


def _enrolled_loans_collected(borrower, *, count: int, tag: str) -> list[int]:
    """`count` autopay loans whose installments due on D were debited and posted."""
    business_date_set(business_date=date(2026, 5, 15), acting_user=None)
    loans = [
        board_loan(
            borrower=borrower, application_ref=f"AP-{tag}-{n}", disbursed_on=date(2026, 5, 15)
        )
        for n in range(count)
    ]
    for loan in loans:
        autopay_enrol(loan=loan, account_number="123456789", routing_number="021000021")
    business_date_set(business_date=D, acting_user=None)
    ids = [loan.pk for loan in loans]
    assert autopay_collect(lo=min(ids), hi=max(ids), on=D) == count
    return ids


def test_settled_debits_are_marked_in_one_statement(borrower):
    # Given 2 and 5 autopay debits pending, whose settle date (D + 2) has come
    two = _enrolled_loans_collected(borrower, count=2, tag="s2")
    five = _enrolled_loans_collected(borrower, count=5, tag="s5")
    settle_day = date(2026, 6, 17)

    # When each range settles
    queries = []
    for ids in (two, five):
        with CaptureQueriesContext(connection) as captured:
            counts = autopay_settle(lo=min(ids), hi=max(ids), on=settle_day)
        assert counts == {"settled": len(ids), "returned": 0}
        queries.append(len(captured))

    # Then every transfer is settled, with as many queries for five as for two
    assert set(RailTransfer.objects.values_list("status", flat=True)) == {"settled"}
    assert queries[0] == queries[1]
    # and settling again finds nothing pending
    assert autopay_settle(lo=min(five), hi=max(five), on=settle_day) == {
        "settled": 0,
        "returned": 0,
    }


def _autopay_queries(borrower, *, count: int, tag: str) -> int:
    """The reads of installments autopay takes to debit and post `count` scheduled-interest
    loans (the ledger's bulk writes may split into batches on SQLite)."""
    business_date_set(business_date=date(2026, 5, 15), acting_user=None)
    loans = [
        board_loan(
            borrower=borrower,
            application_ref=f"AP-{tag}-{n}",
            disbursed_on=date(2026, 5, 15),
            interest_model="scheduled",
        )
        for n in range(count)
    ]
    for loan in loans:
        autopay_enrol(loan=loan, account_number="123456789", routing_number="021000021")
    business_date_set(business_date=D, acting_user=None)
    ids = [loan.pk for loan in loans]
    with CaptureQueriesContext(connection) as captured:
        assert autopay_collect(lo=min(ids), hi=max(ids), on=D) == count
    assert ledger_problems() == []
    return sum(
        1
        for query in captured
        if query["sql"].startswith("SELECT") and 'FROM "servicing_installment"' in query["sql"]
    )


def test_scheduled_loans_debits_take_no_query_per_loan(borrower):
    # the amounts owed read every `scheduled` loan's periods at once, not one payoff at a time
    # (a query per loan before)
    assert _autopay_queries(borrower, count=5, tag="five") == _autopay_queries(
        borrower, count=2, tag="two"
    )
