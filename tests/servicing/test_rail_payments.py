"""Borrower payments through the payment rail (`servicing.rail_payments`): the request and
its rules, cancelling, and close of business sending, settling (posting once, dated the day
it was asked for) or returning it (the NSF fee, nothing posted)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lendcore.errors import NotFound, PermissionDenied
from lendcore.webhooks.models import Event
from servicing import rail_payment_reads, rail_payments
from servicing.cob import crypto
from servicing.cob.runner import cob_run_start
from servicing.errors import LoanStateConflict, ServicingNotFound, ServicingValidationError
from servicing.models import Fee, Installment, Loan, LoanEvent, Payment, RailTransfer
from servicing.payoff import payoff_amount_on
from servicing.rail_payments import (
    payment_request_cancel,
    payment_request_create,
    rail_payments_process,
)
from servicing.selectors import business_date_get
from servicing.services import payment_post

from .factories import board_loan

D = date(2026, 2, 1)  # the first installment (106.62) is due
ACH = {"method": "ach", "account_number": "000123456789", "routing_number": "021000021"}
CARD = {"method": "debit_card", "account_number": "4111 1111 1111 1111"}


@pytest.fixture
def on_due_date(business_date, loan):
    business_date(D)
    return loan


def _request(loan, user, amount="106.62", **account):
    return payment_request_create(loan=loan, amount=amount, acting_user=user, **(account or ACH))


def _fields(error) -> dict:
    return error.value.extra["fields"]


def _close_the_day():
    run = cob_run_start(trigger="test")
    assert run.status == "succeeded", run.error
    return run


# --------------------------------------------------------------------------- the request


def test_a_request_posts_nothing_until_it_settles(on_due_date, borrower):
    # Given Carol's loan on its first due date
    loan = on_due_date
    # When she asks to pay the installment from her bank account
    transfer = _request(loan, borrower.user)

    # Then a one-time transfer waits for close of business; nothing is posted
    assert (transfer.kind, transfer.status, transfer.method) == ("one_time", "requested", "ach")
    assert (transfer.amount, transfer.business_date) == (Decimal("106.62"), D)
    assert transfer.account_last4 == "6789"
    assert transfer.routing_number == "021000021"
    assert crypto.decrypt(transfer.account_encrypted) == "000123456789"
    assert "000123456789" not in transfer.account_encrypted
    assert transfer.requested_by == borrower.user
    assert not Payment.objects.exists()
    assert Loan.objects.get(pk=loan.pk).principal_balance == Decimal("1200.00")
    event = LoanEvent.objects.get(loan=loan, data__payment_request=transfer.pk)
    assert (event.from_status, event.to_status, event.actor) == ("", "requested", borrower.user)


def test_a_debit_card_keeps_the_card_digits_only(on_due_date, borrower):
    # When Carol pays by debit card, typing the number with spaces
    transfer = _request(on_due_date, borrower.user, **CARD)
    # Then the card's digits are kept (encrypted), no routing number
    assert crypto.decrypt(transfer.account_encrypted) == "4111111111111111"
    assert (transfer.account_last4, transfer.routing_number) == ("1111", "")


@pytest.mark.parametrize("method", ["cash", "check", "wire", "bitcoin"])
def test_only_ach_or_debit_card(on_due_date, borrower, method):
    # When a borrower asks to pay by another method
    with pytest.raises(ServicingValidationError) as error:
        _request(on_due_date, borrower.user, **{**ACH, "method": method})
    # Then 400 names the method and says what staff do
    assert _fields(error) == {"method": [rail_payments.METHOD_MESSAGE]}
    assert "Staff post cash, check and wire payments" in error.value.message
    assert not RailTransfer.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.00", "greater than zero"),
        ("-1.00", "greater than zero"),
        ("1.001", "whole cents"),
        ("abc", "such as"),
    ],
)
def test_bad_amount(on_due_date, borrower, amount, message):
    with pytest.raises(ServicingValidationError) as error:
        _request(on_due_date, borrower.user, amount=amount)
    assert list(_fields(error)) == ["amount"]
    assert message in _fields(error)["amount"][0]
    assert not RailTransfer.objects.exists()


def test_not_above_the_payoff(on_due_date, borrower):
    # Given today's payoff
    payoff = payoff_amount_on(Loan.objects.get(pk=on_due_date.pk), D)
    # When Carol asks for a cent more
    with pytest.raises(ServicingValidationError) as error:
        _request(on_due_date, borrower.user, amount=str(payoff + Decimal("0.01")))
    # Then 400 names the amount and says the payoff
    assert list(_fields(error)) == ["amount"]
    assert f"{payoff:,.2f}" in error.value.message
    # And the payoff itself is accepted
    assert _request(on_due_date, borrower.user, amount=str(payoff)).amount == payoff


def test_requests_on_their_way_count_against_the_payoff(on_due_date, borrower):
    # Given a request of 1,000.00 not settled yet
    payoff = payoff_amount_on(Loan.objects.get(pk=on_due_date.pk), D)
    _request(on_due_date, borrower.user, amount="1000.00")
    # When Carol asks for the whole payoff again
    with pytest.raises(ServicingValidationError) as error:
        _request(on_due_date, borrower.user, amount=str(payoff))
    # Then only what is left of the payoff may be asked for
    left = payoff - Decimal("1000.00")
    assert f"at most {left:,.2f}" in _fields(error)["amount"][0]
    assert _request(on_due_date, borrower.user, amount=str(left)).amount == left


@pytest.mark.parametrize(
    ("account", "fields"),
    [
        ({**ACH, "account_number": ""}, ["account_number"]),
        ({**ACH, "account_number": "123"}, ["account_number"]),
        ({**ACH, "account_number": "1" * 18}, ["account_number"]),
        ({**ACH, "account_number": "12345abc"}, ["account_number"]),
        ({**ACH, "routing_number": ""}, ["routing_number"]),
        ({**ACH, "routing_number": "12345678"}, ["routing_number"]),
        # nine digits whose ABA check digit does not match (021000021 with its last one off)
        ({**ACH, "routing_number": "021000022"}, ["routing_number"]),
        (
            {**ACH, "account_number": "", "routing_number": "x"},
            ["account_number", "routing_number"],
        ),
        ({**CARD, "account_number": "411111111111"}, ["account_number"]),  # 12 digits
        ({**CARD, "account_number": "4" * 20}, ["account_number"]),
        ({"method": "debit_card", "account_number": ""}, ["account_number"]),
    ],
)
def test_the_account_needs_its_digits(on_due_date, borrower, account, fields):
    with pytest.raises(ServicingValidationError) as error:
        _request(on_due_date, borrower.user, **account)
    assert sorted(_fields(error)) == fields
    assert not RailTransfer.objects.exists()


def test_each_bad_field_is_named_at_once(on_due_date, borrower):
    with pytest.raises(ServicingValidationError) as error:
        _request(on_due_date, borrower.user, amount="0", **{**ACH, "routing_number": "1"})
    assert sorted(_fields(error)) == ["amount", "routing_number"]
    assert error.value.message == "Invalid input: amount, routing_number."


def test_dated_the_business_date_only(on_due_date, borrower):
    with pytest.raises(ServicingValidationError) as error:
        payment_request_create(
            loan=on_due_date,
            amount=Decimal("10.00"),
            acting_user=borrower.user,
            business_date=date(2026, 1, 20),
            **ACH,
        )
    assert list(_fields(error)) == ["effective_date"]
    transfer = payment_request_create(
        loan=on_due_date, amount=Decimal("10.00"), acting_user=borrower.user, business_date=D, **ACH
    )
    assert transfer.business_date == D


def test_only_an_active_loan(on_due_date, borrower, servicing_agent):
    # Given a loan paid off by staff
    payment_post(
        loan=on_due_date,
        amount=Decimal("1300.00"),
        method="wire",
        acting_user=servicing_agent,
        allow_credit=True,
    )
    # When Carol asks to pay it
    with pytest.raises(LoanStateConflict) as error:
        _request(on_due_date, borrower.user, amount="10.00")
    # Then 409
    assert error.value.http_status == 409
    assert error.value.code == "loan_closed"
    assert not RailTransfer.objects.exists()


def test_another_borrowers_loan_is_not_found(business_date, borrower, other_borrower):
    theirs = board_loan(borrower=other_borrower)
    business_date(D)
    with pytest.raises(NotFound) as error:
        _request(theirs, borrower.user)
    assert error.value.http_status == 404
    assert not RailTransfer.objects.exists()


def test_staff_without_service_loans_may_not(on_due_date, loan_officer):
    with pytest.raises(PermissionDenied):
        _request(on_due_date, loan_officer)


# --------------------------------------------------------------------------- cancelling


def test_the_borrower_cancels_before_it_is_sent(on_due_date, borrower):
    # Given a request
    transfer = _request(on_due_date, borrower.user)
    # When Carol cancels it
    cancelled = payment_request_cancel(transfer=transfer, acting_user=borrower.user)
    # Then it is cancelled, audited, and close of business sends nothing
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    assert LoanEvent.objects.filter(
        data__payment_request=transfer.pk, to_status="cancelled", actor=borrower.user
    ).exists()
    _close_the_day()
    assert RailTransfer.objects.get(pk=transfer.pk).status == "cancelled"
    assert not Payment.objects.exists()


def test_cancelling_twice_is_a_conflict(on_due_date, borrower):
    transfer = _request(on_due_date, borrower.user)
    payment_request_cancel(transfer=transfer, acting_user=borrower.user)
    with pytest.raises(LoanStateConflict) as error:
        payment_request_cancel(transfer=transfer, acting_user=borrower.user)
    assert error.value.code == "payment_request_not_cancellable"
    assert "already cancelled" in error.value.message


def test_staff_with_service_loans_may_cancel(on_due_date, borrower, servicing_agent):
    transfer = _request(on_due_date, borrower.user)
    assert payment_request_cancel(transfer=transfer, acting_user=servicing_agent).status == (
        "cancelled"
    )


def test_others_may_not_cancel(business_date, borrower, other_borrower, loan_officer):
    business_date(D)
    loan = board_loan(borrower=borrower)
    transfer = _request(loan, borrower.user)
    with pytest.raises(ServicingNotFound):
        payment_request_cancel(transfer=transfer, acting_user=other_borrower.user)
    with pytest.raises(PermissionDenied):
        payment_request_cancel(transfer=transfer, acting_user=loan_officer)
    assert RailTransfer.objects.get(pk=transfer.pk).status == "requested"


def test_once_sent_it_cannot_be_cancelled(on_due_date, borrower, settings):
    # Given a request close of business sent (settling a day later)
    settings.SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS = 1
    transfer = _request(on_due_date, borrower.user)
    rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=D)
    assert RailTransfer.objects.get(pk=transfer.pk).status == "pending"
    # When Carol tries to cancel it
    with pytest.raises(LoanStateConflict) as error:
        payment_request_cancel(transfer=transfer, acting_user=borrower.user)
    # Then 409: it was sent
    assert error.value.http_status == 409
    assert "already sent" in error.value.message


def test_once_settled_it_cannot_be_cancelled(on_due_date, borrower):
    transfer = _request(on_due_date, borrower.user)
    _close_the_day()
    with pytest.raises(LoanStateConflict) as error:
        payment_request_cancel(transfer=transfer, acting_user=borrower.user)
    assert "settled" in error.value.message


# --------------------------------------------------------------------------- close of business


def test_close_of_business_sends_settles_and_posts(on_due_date, borrower):
    # Given Carol's request on the due date
    transfer = _request(on_due_date, borrower.user)

    # When close of business runs for the day
    run = _close_the_day()

    # Then the sandbox rail settled it the same night and the payment is posted, dated the
    # day she asked, by the system
    transfer.refresh_from_db()
    payment = transfer.payment
    assert transfer.status == "settled"
    assert transfer.rail_reference == f"SBX-RAIL-{transfer.pk}"
    assert transfer.settle_on == D
    assert (payment.amount, payment.effective_date, payment.method) == (
        Decimal("106.62"),
        D,
        "ach",
    )
    assert (payment.reference, payment.created_by, payment.status) == (
        f"RAIL-{transfer.pk}",
        None,
        "posted",
    )
    loan = Loan.objects.get(pk=on_due_date.pk)
    assert loan.principal_balance < Decimal("1200.00")
    first = Installment.objects.get(loan=loan, schedule__is_current=True, number=1)
    assert first.status == "paid"
    statuses = list(
        LoanEvent.objects.filter(data__payment_request=transfer.pk)
        .order_by("id")
        .values_list("to_status", flat=True)
    )
    assert statuses == ["requested", "pending", "settled"]
    assert run.steps["rail_payments"]["count"] == 2  # sent and settled


@pytest.mark.parametrize(
    "account",
    [
        {**ACH, "account_number": "987650001"},
        {**ACH, "account_number": "987650002"},
        {**CARD, "account_number": "4000 0000 0000 0001"},
        {**CARD, "account_number": "4000000000000002"},
    ],
)
def test_an_nsf_return_charges_the_fee_and_posts_nothing(on_due_date, borrower, account):
    # Given a request from a documented NSF test account
    transfer = _request(on_due_date, borrower.user, **account)

    # When close of business runs
    run = _close_the_day()

    # Then the rail returned it R01: nothing posted, the loan's NSF fee charged
    transfer.refresh_from_db()
    assert (transfer.status, transfer.return_code, transfer.payment_id) == ("returned", "R01", None)
    assert not Payment.objects.exists()
    fee = Fee.objects.get(loan=on_due_date)
    assert (fee.kind, fee.amount) == ("nsf", Decimal("25.00"))
    assert f"Returned payment request {transfer.pk} (R01)" == fee.reason
    # and the webhooks' payment.returned (then the NSF fee's fee.assessed), for the loan
    returned = Event.objects.filter(loan_id=on_due_date.pk).order_by("id")
    assert list(returned.values_list("type", flat=True))[-2:] == [
        "payment.returned",
        "fee.assessed",
    ]
    assert returned.get(type="payment.returned").payload["return_code"] == "R01"
    loan = Loan.objects.get(pk=on_due_date.pk)
    assert (loan.principal_balance, loan.fees_balance) == (Decimal("1200.00"), Decimal("25.00"))
    assert run.steps["rail_payments_returned"]["count"] == 1


def test_no_nsf_fee_when_the_loan_has_none(business_date, borrower):
    business_date(date(2026, 1, 1))
    loan = board_loan(borrower=borrower, nsf_fee="0.00")
    business_date(D)
    _request(loan, borrower.user, **{**ACH, "account_number": "987650001"})
    _close_the_day()
    assert RailTransfer.objects.get().status == "returned"
    assert not Fee.objects.exists()


def test_a_retry_after_posting_links_the_payment_instead_of_posting_again(
    on_due_date, borrower, business_date, settings
):
    # Given a request sent by close of business, settling the next day
    settings.SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS = 1
    transfer = _request(on_due_date, borrower.user)
    assert rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=D)["sent"] == 1
    # And a crash on the settle day after its payment was posted, before it was linked
    next_day = business_date(date(2026, 2, 2))
    posted = payment_post(
        loan=on_due_date,
        amount=transfer.amount,
        effective_date=D,
        method="ach",
        reference=f"RAIL-{transfer.pk}",
        acting_user=None,
        allow_credit=True,
    )

    # When the step runs again
    counts = rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=next_day)
    again = rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=next_day)

    # Then it links the payment it finds: one payment, settled once
    transfer.refresh_from_db()
    assert (transfer.status, transfer.payment_id) == ("settled", posted.pk)
    assert Payment.objects.count() == 1
    assert counts == {"sent": 0, "settled": 1, "returned": 0, "failed": 0}
    assert again == {"sent": 0, "settled": 0, "returned": 0, "failed": 0}


def test_a_second_run_of_the_step_changes_nothing(on_due_date, borrower):
    _request(on_due_date, borrower.user)
    first = rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=D)
    second = rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=D)
    assert first == {"sent": 1, "settled": 1, "returned": 0, "failed": 0}
    assert second == {"sent": 0, "settled": 0, "returned": 0, "failed": 0}
    assert Payment.objects.count() == 1


def test_a_sent_debit_without_its_reference_is_sent_on_retry(on_due_date, borrower):
    # Given a crash after the request was claimed (pending) but before the rail answered
    transfer = _request(on_due_date, borrower.user)
    RailTransfer.objects.filter(pk=transfer.pk).update(status="pending")
    # When the step runs again, then it is debited and settled once
    counts = rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=D)
    assert counts == {"sent": 1, "settled": 1, "returned": 0, "failed": 0}
    assert RailTransfer.objects.get(pk=transfer.pk).status == "settled"


def test_a_payoff_that_shrank_meanwhile_leaves_a_credit(on_due_date, borrower, servicing_agent):
    # Given Carol asks for the whole payoff, and the same day staff post 50.00 she mailed
    payoff = payoff_amount_on(Loan.objects.get(pk=on_due_date.pk), D)
    _request(on_due_date, borrower.user, amount=str(payoff))
    payment_post(
        loan=on_due_date, amount=Decimal("50.00"), method="check", acting_user=servicing_agent
    )

    # When her debit settles at close of business
    _close_the_day()

    # Then the money that arrived pays the loan off and the rest is her credit
    loan = Loan.objects.get(pk=on_due_date.pk)
    assert loan.status == "paid_off"
    assert loan.credit_balance == Decimal("50.00")
    assert RailTransfer.objects.get().status == "settled"


def test_a_debit_the_loan_can_no_longer_take_fails_with_the_reason(
    on_due_date, borrower, servicing_agent, settings
):
    # Given a request sent, settling tomorrow, and the loan paid off by staff meanwhile
    settings.SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS = 1
    transfer = _request(on_due_date, borrower.user, amount="10.00")
    _close_the_day()
    payment_post(
        loan=on_due_date,
        amount=Decimal("1300.00"),
        method="wire",
        acting_user=servicing_agent,
        allow_credit=True,
    )

    # When it settles
    counts = rail_payments_process(lo=on_due_date.pk, hi=on_due_date.pk, on=business_date_get())

    # Then it is failed with payment_post's reason, for staff to refund
    transfer.refresh_from_db()
    assert counts["failed"] == 1
    assert transfer.status == "failed"
    assert "paid off" in transfer.error
    assert Payment.objects.count() == 1  # the staff payoff only


def test_a_request_on_the_last_grace_day_keeps_the_installment_free_of_a_late_fee(
    on_due_date, borrower, business_date
):
    # Given the installment due 2026-02-01 unpaid through its last grace day (10 days)
    business_date(date(2026, 2, 11))
    # When Carol asks to pay it that day and close of business runs that night and the next
    _request(on_due_date, borrower.user)
    _close_the_day()
    _close_the_day()

    # Then the payment is dated the day she asked and no late fee is charged
    payment = Payment.objects.get()
    assert payment.effective_date == date(2026, 2, 11)
    assert not Fee.objects.filter(kind="late").exists()
    first = Installment.objects.get(loan=on_due_date, schedule__is_current=True, number=1)
    assert first.status == "paid"
    assert first.paid_on == date(2026, 2, 11)


def test_without_the_request_the_same_nights_charge_the_late_fee(on_due_date, business_date):
    # The counterpart of the test above: the second night is the one that charges it
    business_date(date(2026, 2, 11))
    _close_the_day()
    _close_the_day()
    assert Fee.objects.filter(kind="late").count() == 1


def test_a_late_settlement_dated_in_grace_reverses_the_late_fee(
    on_due_date, borrower, business_date, settings
):
    # Given a rail that settles two days after sending, and Carol's request on the last
    # grace day
    settings.SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS = 2
    business_date(date(2026, 2, 11))
    transfer = _request(on_due_date, borrower.user)
    _close_the_day()  # 02-11: sent
    _close_the_day()  # 02-12: not settled yet; the late fee is charged
    assert Fee.objects.filter(kind="late").count() == 1

    # When it settles on 02-13
    _close_the_day()

    # Then the payment dated 02-11 replays: the installment was paid in grace, no fee owed
    transfer.refresh_from_db()
    assert transfer.status == "settled"
    assert transfer.payment.effective_date == date(2026, 2, 11)
    late = Fee.objects.get(kind="late")
    assert late.outstanding == Decimal("0.00")
    assert Loan.objects.get(pk=on_due_date.pk).fees_balance == Decimal("0.00")


# --------------------------------------------------------------------------- reads


def test_rows_say_when_it_settles_and_whether_it_can_be_cancelled(on_due_date, borrower, settings):
    settings.SANDBOX_RAIL_ONE_TIME_SETTLE_DAYS = 1
    requested = _request(on_due_date, borrower.user, amount="10.00")
    cancelled = _request(on_due_date, borrower.user, amount="11.00")
    payment_request_cancel(transfer=cancelled, acting_user=borrower.user)

    rows = rail_payment_reads.payment_request_rows(
        rail_payment_reads.loan_payment_requests(loan=on_due_date), today=D
    )

    assert [(r.id, r.status, r.cancellable) for r in rows] == [
        (cancelled.pk, "cancelled", False),
        (requested.pk, "requested", True),
    ]
    assert rows[1].expected_settlement_date == date(2026, 2, 2)
    assert rows[0].expected_settlement_date is None
