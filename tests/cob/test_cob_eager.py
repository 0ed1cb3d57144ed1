"""COB's logic with tasks run in-process (SQLite locally, PostgreSQL in CI)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from servicing.cob.runner import CobAlreadyClosed, CobRunConflict, cob_close_through, cob_run_start
from servicing.models import (
    ChargeOffCandidate,
    CobRun,
    DailyTotalsDay,
    DelinquencyHistory,
    Fee,
    Installment,
    InterestAccrual,
    Loan,
    Notification,
    Payment,
    RailTransfer,
)
from servicing.selectors import business_date_get

from .scenario import D, snapshot

pytestmark = pytest.mark.django_db


def _loan(book, name) -> Loan:
    return Loan.objects.get(pk=book.loans[name].pk)


def test_a_day_closes_every_loan_as_expected(book, mailoutbox, django_capture_on_commit_callbacks):
    # Given the hand-built book on 2026-06-15
    # When close of business runs for that date
    with django_capture_on_commit_callbacks(execute=True):
        run = cob_run_start(trigger="test")

    # Then the run succeeded and moved the business date on
    assert run.status == CobRun.Status.SUCCEEDED, run.error
    assert business_date_get() == date(2026, 6, 16)
    assert_day_closed(book, reminders_sent=True)
    assert len([m for m in mailoutbox if "overdue" in m.subject]) == 3
    assert run.steps["accrual"]["count"] >= 9
    # what the COMMIT checks ran (and was timed) in every partition, on PostgreSQL
    checked = run.partitions_done if connection.vendor == "postgresql" else 0
    assert run.steps["ledger_check"]["count"] == checked
    assert run.steps["foreign_key_checks"]["count"] == checked
    # and the run's end comes after the close's own work (the day's totals), not before it
    totals = DailyTotalsDay.objects.get(business_date=D)
    assert run.started_at <= totals.written_at <= run.finished_at


def test_autopay_settles_or_returns_with_nsf_fee(book):
    cob_close_through(through=date(2026, 6, 17))
    ok = RailTransfer.objects.get(loan=book.loans["autopay_ok"])
    nsf = RailTransfer.objects.get(loan=book.loans["autopay_nsf"])
    assert ok.status == "settled"
    assert ok.payment.status == "posted"
    assert nsf.status == "returned"
    assert nsf.return_code == "R01"
    assert Payment.objects.get(pk=nsf.payment_id).status == "reversed"
    assert Fee.objects.filter(loan=book.loans["autopay_nsf"], kind="nsf").count() == 1
    loan = _loan(book, "autopay_nsf")
    assert loan.dpd == 2
    assert loan.delinquency_bucket == "1-29"


def test_a_second_run_of_the_same_date_changes_nothing(book):
    cob_run_start(trigger="test")
    before = snapshot()
    with pytest.raises(CobAlreadyClosed):
        cob_run_start(business_date=D, trigger="test")
    results = cob_close_through(through=D)
    assert results[0][1] == "already closed"
    assert snapshot() == before


def test_only_the_business_date_can_be_started(book):
    with pytest.raises(CobRunConflict):
        cob_run_start(business_date=date(2026, 6, 20), trigger="test")


def test_catch_up_over_three_days_equals_three_single_runs(book):
    results = cob_close_through(through=date(2026, 6, 17))
    assert [r[1] for r in results] == ["closed", "closed", "closed"]
    assert business_date_get() == date(2026, 6, 18)
    assert CobRun.objects.filter(status="succeeded").count() == 3
    loan = _loan(book, "dpd31")
    assert loan.dpd == 33
    assert loan.last_closed_on == date(2026, 6, 17)
    assert InterestAccrual.objects.filter(loan=loan, date__gt=D).count() == 2


def test_a_payment_on_a_lagging_loan_closes_its_missing_days_first(book):
    from servicing.services import business_date_set, payment_post

    cob_run_start(trigger="test")  # closes 06-15; business date 06-16
    business_date_set(business_date=date(2026, 6, 19), acting_user=None)  # COB skipped
    loan = _loan(book, "dpd31")
    payment_post(loan=loan, amount=Decimal("10.00"), method="ach", acting_user=None)
    loan.refresh_from_db()
    assert loan.last_closed_on == date(2026, 6, 18)
    assert loan.dpd == 34
    assert InterestAccrual.objects.filter(loan=loan, date=date(2026, 6, 18)).exists()
    other = _loan(book, "dpd61")
    assert other.last_closed_on == D  # untouched loans wait for the run


def test_opted_out_borrowers_get_no_reminders(book, borrower):
    borrower.email_opt_out = True
    borrower.save(update_fields=["email_opt_out"])
    cob_run_start(trigger="test")
    assert not Notification.objects.exists()


def assert_day_closed(book, *, reminders_sent: bool) -> None:
    """The expected end state of closing 2026-06-15 on the hand-built book."""
    expected = {  # name: (dpd, bucket, non_accrual, late fees)
        "on_time": (0, "current", False, 0),
        "one_day_late": (1, "1-29", False, 0),
        "past_grace": (11, "1-29", False, 1),
        "dpd31": (31, "30-59", False, 1),
        "dpd61": (61, "60-89", False, 2),
        "dpd91": (91, "90-119", True, 3),
        "dpd121": (121, "120+", True, 4),
        "paid_off": (0, "current", False, 0),
        "charged_off": (0, "current", False, 0),
        "autopay_ok": (0, "current", False, 0),
        "autopay_nsf": (0, "current", False, 0),
    }
    for name, (dpd, bucket, non_accrual, fees) in expected.items():
        loan = _loan(book, name)
        assert (loan.dpd, loan.delinquency_bucket, loan.non_accrual) == (
            dpd,
            bucket,
            non_accrual,
        ), name
        assert loan.last_closed_on == D, name
        assert Fee.objects.filter(loan=loan, kind="late").count() == fees, name
        if loan.status == Loan.Status.ACTIVE:
            assert loan.last_accrual_date == D, name
            assert InterestAccrual.objects.filter(loan=loan, date=D, reversed=False).count() == 1
        else:
            assert not InterestAccrual.objects.filter(loan=loan, date=D).exists(), name
    # late fees are the flat 15.00 each
    assert set(Fee.objects.filter(kind="late").values_list("amount", flat=True)) == {
        Decimal("15.00")
    }

    # transitions: within grace -> due, past grace -> overdue, due today -> due
    def status(name, number):
        return Installment.objects.get(
            loan=book.loans[name], number=number, schedule__is_current=True
        ).status

    assert status("one_day_late", 2) == "due"
    assert status("past_grace", 1) == "overdue"
    assert status("dpd31", 1) == "overdue"
    assert status("dpd31", 2) == "due"
    assert status("on_time", 1) == "paid"
    assert status("on_time", 2) == "due"
    # buckets: a history row per change; charge-off candidates at 120
    assert DelinquencyHistory.objects.count() == 6
    assert list(ChargeOffCandidate.objects.values_list("loan_id", flat=True)) == [
        book.loans["dpd121"].pk
    ]
    # reminders: overdue day 1 (one_day_late 06-14 and dpd121's 06-14), day 30 (dpd91's 05-16)
    kinds = sorted(Notification.objects.values_list("loan_id", "kind"))
    assert kinds == sorted(
        [
            (book.loans["one_day_late"].pk, "overdue_1"),
            (book.loans["dpd121"].pk, "overdue_1"),
            (book.loans["dpd91"].pk, "overdue_30"),
        ]
    )
    if reminders_sent:
        assert all(n.status == "sent" for n in Notification.objects.all())
    # autopay: both debits posted a payment on the due date, pending settlement
    for name in ("autopay_ok", "autopay_nsf"):
        transfer = RailTransfer.objects.get(loan=book.loans[name])
        assert transfer.status == "pending"
        assert transfer.payment.status == "posted"
        assert status(name, 1) == "paid"


def test_a_run_records_its_status_changes(book):
    # Given the hand-built book on 2026-06-15
    # When close of business runs for that date
    run = cob_run_start(trigger="test")

    # Then the change from running to succeeded is recorded (transition()'s row)
    events = list(run.events.values_list("from_status", "to_status"))
    assert events == [("running", "succeeded")]


def test_close_of_business_writes_its_webhook_events(book):
    # When close of business runs two days over the hand-built book
    from lendcore.webhooks.models import Event

    cob_close_through(through=date(2026, 6, 17))

    # Then each bucket change is a loan.delinquency_changed event (set-based, like the
    # history rows), each late fee a fee.assessed, each run a cob.completed
    changes = DelinquencyHistory.objects.count()
    assert changes > 0
    events = Event.objects.filter(type="loan.delinquency_changed")
    assert events.count() == changes
    first = DelinquencyHistory.objects.order_by("id").first()
    event = events.get(loan_id=first.loan_id, payload__business_date=str(first.business_date))
    assert (event.payload["from_bucket"], event.payload["to_bucket"]) == (
        first.from_bucket,
        first.to_bucket,
    )
    assert Event.objects.filter(type="fee.assessed").count() == Fee.objects.count()
    completed = Event.objects.filter(type="cob.completed").order_by("id")
    assert [e.payload["business_date"] for e in completed] == [
        "2026-06-15",
        "2026-06-16",
        "2026-06-17",
    ]
