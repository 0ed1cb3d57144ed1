"""Hardship plans: requested, approved by a second person, applied through servicing's
modification (the loan cures), ended by close of business (completed or broken)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collections_app.errors import CasePermissionDenied, CollectionsValidationError
from collections_app.models import CaseEvent, CollectionCase, HardshipPlan
from collections_app.services.workouts import hardship_plan_decide, hardship_plan_request
from lendcore.errors import ApplicationError
from servicing.cob.runner import cob_close_through
from servicing.ledger import ledger_problems
from servicing.models import Installment, Loan, Modification
from servicing.services import payment_post

pytestmark = pytest.mark.django_db

BEHIND = date(2026, 4, 22)  # 67 days after the first due date, nothing paid


def _close(day: date) -> None:
    results = cob_close_through(through=day)
    assert all(outcome in ("closed", "already closed") for _, outcome, _ in results), results


def _fresh(loan: Loan) -> Loan:
    return Loan.objects.get(pk=loan.pk)


@pytest.fixture
def behind(board, collector):
    """A loan 67 days past due with an open case (closed day by day up to BEHIND)."""
    loan = board("h")
    _close(BEHIND)
    loan = _fresh(loan)
    assert loan.dpd == 67
    assert loan.delinquency_bucket == "60-89"
    return loan


def _request(loan, user, kind="deferral", months=3, channel="staff"):
    return hardship_plan_request(
        loan=loan, kind=kind, months=months, reason="lost job", acting_user=user, channel=channel
    )


def test_an_approved_plan_cures_the_loan_and_completes_after_its_months(behind, collector, manager):
    # Given a collector's request for a three-month deferral on a loan 67 days past due
    plan = _request(behind, collector)
    assert plan.status == "requested"
    assert plan.case.status == "open"

    # When a manager approves it
    plan = hardship_plan_decide(plan=plan, approve=True, reason="ok", acting_user=manager)

    # Then servicing's modification applied it, requested by the collector, decided by the
    # manager; the loan is current at once, flagged in hardship, and its books balance
    assert plan.status == "active"
    modification = Modification.objects.get(pk=plan.modification_id)
    assert (modification.status, modification.requested_by_id, modification.decided_by_id) == (
        "applied",
        collector.pk,
        manager.pk,
    )
    loan = _fresh(behind)
    assert (loan.dpd, loan.delinquency_bucket, loan.delinquent) == (0, "current", False)
    assert loan.in_hardship is True
    assert loan.oldest_unpaid_due_date >= BEHIND
    assert not ledger_problems()
    current = Installment.objects.filter(loan=loan, schedule__is_current=True)
    assert all(i.remaining == 0 for i in current if i.due_date < BEHIND)
    principal_billed = sum(i.principal_due - i.principal_paid for i in current if i.remaining)
    assert principal_billed == loan.principal_balance  # the arrears' principal re-scheduled

    # When the next day closes: the case is cured, the loan stays current
    _close(date(2026, 4, 23))
    assert _fresh(behind).dpd == 0
    assert CollectionCase.objects.get(pk=plan.case_id).status == "cured"

    # When the plan's three months are over (nothing is due during the deferral)
    _close(plan.ends_on)

    # Then the plan is completed, the flag cleared, all on the case's history
    plan.refresh_from_db()
    assert (plan.status, plan.ended_on) == ("completed", plan.ends_on)
    assert _fresh(behind).in_hardship is False
    changes = [
        (e.data.get("from"), e.data.get("to"))
        for e in CaseEvent.objects.filter(case_id=plan.case_id, kind="hardship").order_by("pk")
    ]
    assert changes == [("", "requested"), ("requested", "active"), ("active", "completed")]

    # And closing the day again changes nothing (exactly once)
    before = CaseEvent.objects.count()
    from collections_app.workouts_cob import plans_close

    assert plans_close(0, 10**9, plan.ends_on) == 0
    assert CaseEvent.objects.count() == before


def test_a_plan_breaks_when_the_loan_falls_behind_again(behind, collector, manager, settings):
    # Given an active three-month payment reduction (interest only) on the loan
    settings.COLLECTIONS_HARDSHIP_BREAK_DPD = 10
    plan = _request(behind, collector, kind="payment_reduction", months=3)
    plan = hardship_plan_decide(plan=plan, approve=True, acting_user=manager)
    first = (
        Installment.objects.filter(loan=behind, schedule__is_current=True, due_date__gte=BEHIND)
        .order_by("number")
        .first()
    )
    assert first.principal_due == 0
    assert first.interest_due > 0

    # When its next installment goes unpaid 10 days past its due date
    _close(date.fromordinal(first.due_date.toordinal() + 10))

    # Then close of business broke the plan and cleared the flag
    plan.refresh_from_db()
    assert plan.status == "broken"
    loan = _fresh(behind)
    assert loan.in_hardship is False
    assert loan.dpd >= 10


def test_term_extension_adds_installments(behind, collector, manager):
    before = Installment.objects.filter(
        loan=behind, schedule__is_current=True, due_date__gte=BEHIND
    ).count()
    plan = hardship_plan_decide(
        plan=_request(behind, collector, kind="term_extension", months=6),
        approve=True,
        acting_user=manager,
    )
    after = Installment.objects.filter(
        loan=behind, schedule__is_current=True, due_date__gte=BEHIND
    ).count()
    assert after == before + 6
    assert plan.status == "active"
    assert _fresh(behind).dpd == 0


def test_the_requester_cannot_approve_their_own_plan(behind, admin_user):
    # Given a plan requested by someone who could approve plans
    plan = _request(behind, admin_user)

    # When they approve it themselves: 409, nothing changes
    with pytest.raises(ApplicationError) as refused:
        hardship_plan_decide(plan=plan, approve=True, acting_user=admin_user)
    assert refused.value.http_status == 409
    assert refused.value.code == "four_eyes_required"
    plan.refresh_from_db()
    assert plan.status == "requested"
    assert _fresh(behind).dpd == 67
    assert not Modification.objects.exists()


def test_a_collector_cannot_approve(behind, collector, collector2):
    plan = _request(behind, collector)
    with pytest.raises(CasePermissionDenied):
        hardship_plan_decide(plan=plan, approve=True, acting_user=collector2)


def test_a_rejected_plan_changes_nothing_on_the_loan(behind, collector, manager):
    plan = hardship_plan_decide(
        plan=_request(behind, collector), approve=False, reason="no", acting_user=manager
    )
    assert plan.status == "rejected"
    assert _fresh(behind).dpd == 67
    assert not Modification.objects.exists()
    # a new request may follow
    assert _request(behind, collector).status == "requested"


def test_a_plan_on_a_paid_off_loan_is_409(board, collector):
    loan = board("paid")
    from servicing.selectors import loan_balances

    payment_post(
        loan=loan,
        amount=loan_balances(loan).payoff_today,
        effective_date=loan.disbursed_on,
        method="ach",
        acting_user=None,
    )
    assert _fresh(loan).status == "paid_off"
    with pytest.raises(ApplicationError) as refused:
        _request(_fresh(loan), collector)
    assert refused.value.http_status == 409
    assert not HardshipPlan.objects.exists()


def test_a_second_open_plan_is_409(behind, collector):
    _request(behind, collector)
    with pytest.raises(ApplicationError) as refused:
        _request(behind, collector)
    assert refused.value.http_status == 409
    assert HardshipPlan.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "months", "reason", "field"),
    [
        ("holiday", 3, "x", "kind"),
        ("deferral", 0, "x", "months"),
        ("deferral", 13, "x", "months"),
        ("deferral", "3", "x", "months"),
        ("deferral", 3, "  ", "reason"),
    ],
)
def test_bad_input_names_the_field(behind, collector, kind, months, reason, field):
    with pytest.raises(CollectionsValidationError) as refused:
        hardship_plan_request(
            loan=behind, kind=kind, months=months, reason=reason, acting_user=collector
        )
    assert field in refused.value.extra["fields"]
    assert not HardshipPlan.objects.exists()


def test_a_borrower_asks_before_falling_behind(board, borrower, manager):
    # Given a current loan with no case: the borrower's request opens one to hold the history
    loan = board("early")
    plan = _request(loan, borrower.user, channel="portal", kind="term_extension", months=2)
    assert plan.case.events.filter(kind="opened").exists()
    plan = hardship_plan_decide(plan=plan, approve=True, acting_user=manager)
    assert plan.status == "active"
    assert _fresh(loan).in_hardship is True
    assert Decimal(_fresh(loan).principal_balance) > 0
