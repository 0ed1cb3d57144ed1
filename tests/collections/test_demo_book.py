"""seed_demo's book: loans in every bucket by the real close of business over past business
dates, the collections work on them, and the dashboard, loan pages and queue agreeing."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from collections_app import contact_rules
from collections_app.models import (
    CaseEvent,
    CollectionCase,
    Contact,
    DunningNotice,
    HardshipPlan,
    PromiseToPay,
)
from collections_app.workouts_selectors import charge_off_candidates
from servicing.cob import config as cob_config
from servicing.ledger import ledger_problems
from servicing.models import CobRun, JournalEntry, Loan, Payment
from servicing.selectors import business_date_get

pytestmark = pytest.mark.django_db

# What a second seed_demo must not add to.
COUNTED = (Loan, Payment, JournalEntry, CobRun, CollectionCase, CaseEvent, Contact)
COUNTED += (PromiseToPay, HardshipPlan, DunningNotice)


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db):
    """The demo seeded once; the counts of what it made."""
    output = _seed()
    return output, {model.__name__: model.objects.count() for model in COUNTED}


def test_seed_demo_book_every_bucket_cases_contacts_promises_plan_candidate(demo, client):
    output, counts = demo
    today = business_date_get()
    demo_loans = Loan.objects.filter(application_ref__startswith="DEMO-LOAN-")
    active = demo_loans.filter(status=Loan.Status.ACTIVE)

    # Then close of business closed every day up to yesterday, for every demo loan
    assert CobRun.objects.filter(status="succeeded").count() >= 120
    assert set(active.values_list("last_closed_on", flat=True)) == {today - timedelta(days=1)}
    # ...and the loans are in every bucket, besides charged off and paid off
    assert set(active.values_list("delinquency_bucket", flat=True)) == {
        code for code, _lo, _hi in cob_config.buckets()
    }
    assert demo_loans.filter(status=Loan.Status.CHARGED_OFF).count() == 1
    assert demo_loans.filter(status=Loan.Status.PAID_OFF).count() == 1
    assert {loan.borrower.user.username for loan in demo_loans} == {"alice", "bob"}

    # Open cases, opened and assigned by close of business: one per delinquent active loan
    delinquent = active.exclude(delinquency_bucket="current")
    cases = CollectionCase.objects.filter(status=CollectionCase.Status.OPEN)
    assert sorted(cases.values_list("loan_id", flat=True)) == sorted(
        delinquent.values_list("pk", flat=True)
    )
    assert not cases.filter(assignee__isnull=True).exists()
    assert all(case.dpd == case.loan.dpd and case.bucket == case.loan.delinquency_bucket
               for case in cases.select_related("loan"))  # fmt: skip
    # dunning went out by close of business (e-mail at 3, SMS at 10, letter at 30)
    assert {"email", "sms", "letter"} <= set(
        DunningNotice.objects.values_list("channel", flat=True)
    )

    # Contacts: calls inside the Regulation F window, an e-mail
    calls = Contact.objects.filter(channel="call", direction="outbound")
    assert calls.count() >= 3
    for call in calls:
        assert contact_rules.in_window(call.at, "America/New_York"), call.at
    assert Contact.objects.filter(channel="email").exists()
    assert calls.first().at.astimezone(ZoneInfo("America/New_York")).hour >= 8

    # Promises: one kept, one broken, one pending (settled by close of business)
    statuses = sorted(PromiseToPay.objects.values_list("status", flat=True))
    assert statuses == ["broken", "kept", "pending"]
    assert CaseEvent.objects.filter(kind="promise_kept").count() == 1
    assert CaseEvent.objects.filter(kind="promise_broken").count() == 1

    # One hardship plan running: requested by the collector, approved by the manager; the
    # loan is current again and flagged in_hardship
    plan = HardshipPlan.objects.select_related("loan").get()
    assert plan.status == HardshipPlan.Status.ACTIVE
    assert plan.requested_by.username == "collector"
    assert plan.decided_by.username == "collections_manager"
    assert plan.loan.in_hardship
    assert plan.loan.delinquency_bucket == "current"
    assert plan.ends_on > today

    # One charge-off candidate: the loan past 120 days
    candidates = list(charge_off_candidates())
    assert len(candidates) == 1
    assert candidates[0].loan.delinquency_bucket == "120+"
    assert candidates[0].dpd >= cob_config.charge_off_candidate_dpd()

    # The ledger is sound
    assert ledger_problems() == []
    call_command("ledger_check", stdout=io.StringIO())
    assert "Collections: 5 open cases (5 assigned)" in output

    # When seed_demo runs again, it creates nothing
    again = _seed()
    assert {model.__name__: model.objects.count() for model in COUNTED} == counts
    assert "Demo loan" not in again
    assert business_date_get() == today


def test_dashboard_loan_pages_and_queue_agree_on_the_demo_book(demo, client):
    today = business_date_get()
    User = get_user_model()

    # The staff dashboard
    client.force_login(User.objects.get(username="admin"))
    portfolio = client.get("/staff/").context["portfolio"]
    active = Loan.objects.filter(status=Loan.Status.ACTIVE)
    delinquent = active.exclude(delinquency_bucket="current")
    assert portfolio.delinquent_loans == delinquent.count() == 5
    by_bucket = {bucket: n for bucket, n in portfolio.loans_by_bucket.items() if n}
    assert sum(n for bucket, n in by_bucket.items() if bucket != "current") == 5

    # The collections queue lists exactly the delinquent loans, with their dpd and bucket
    client.force_login(User.objects.get(username="collector"))
    queue = client.get("/staff/collections/").context["cases"]
    assert sorted(case.loan_id for case in queue) == sorted(delinquent.values_list("pk", flat=True))
    queued = {case.loan_id: case for case in queue}
    for bucket, n in by_bucket.items():
        if bucket != "current":
            assert sum(1 for case in queue if case.bucket == bucket) == n

    # Each loan page: past due exactly when the dashboard counts it delinquent; its days
    # past due run to today, the queue's to the last close (yesterday)
    client.force_login(User.objects.get(username="servicing_agent"))
    for loan in active:
        balances = client.get(f"/staff/loans/{loan.pk}/").context["balances"]
        if loan.pk in queued:
            assert balances.dpd == queued[loan.pk].dpd + (today - loan.last_closed_on).days
            assert balances.past_due_amount > 0
        else:
            assert balances.dpd == 0, loan.application_ref
