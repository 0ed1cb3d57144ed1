"""The charge-off workflow: close of business lists the candidate at 120 days past due, a
collector recommends, a manager approves (four eyes) and servicing posts the charge-off;
recoveries are tracked on the case; the agency placement file."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from collections_app.models import CaseEvent, ChargeOffRecommendation, CollectionCase
from collections_app.services.workouts import (
    charge_off_recommend,
    placement_record,
    recommendation_decide,
)
from collections_app.workouts_selectors import (
    charge_off_candidates,
    placement_csv,
    placement_rows,
)
from lendcore.errors import ApplicationError
from servicing.cob.runner import cob_close_through
from servicing.ledger import ledger_problems
from servicing.models import ChargeOff, ChargeOffCandidate, Loan
from servicing.services import payment_post

pytestmark = pytest.mark.django_db

CANDIDATE_DAY = date(2026, 6, 14)  # 120 days after the first due date (2026-02-14)


def _close(day: date) -> None:
    results = cob_close_through(through=day)
    assert all(outcome in ("closed", "already closed") for _, outcome, _ in results), results


@pytest.fixture
def candidate(board, collector):
    """A loan 120 days past due, listed by close of business, with its open case."""
    loan = board("co")
    _close(CANDIDATE_DAY)
    case = CollectionCase.objects.get(loan=loan, status="open")
    return case


def test_close_of_business_lists_the_candidate(candidate):
    assert candidate.dpd == 120
    assert ChargeOffCandidate.objects.filter(loan_id=candidate.loan_id).exists()
    assert list(charge_off_candidates()) == [candidate]
    events = CaseEvent.objects.filter(case=candidate, kind="charge_off_candidate")
    assert [e.data for e in events] == [{"dpd": 120}]


def test_recommended_by_a_collector_approved_by_a_manager(candidate, collector, manager):
    # Given a collector's recommendation: servicing's request in the collector's name
    recommendation = charge_off_recommend(
        case=candidate, reason="no contact", acting_user=collector
    )
    assert recommendation.status == "pending"
    request = ChargeOff.objects.get(pk=recommendation.charge_off_id)
    assert (request.status, request.requested_by_id) == ("requested", collector.pk)
    assert not list(charge_off_candidates())  # no longer waiting for a recommendation

    # When a manager approves it
    recommendation = recommendation_decide(
        recommendation=recommendation, approve=True, reason="agreed", acting_user=manager
    )

    # Then servicing posted the charge-off, the books balance, the case has it all
    loan = Loan.objects.get(pk=candidate.loan_id)
    assert loan.status == "charged_off"
    assert (loan.principal_balance, loan.interest_balance, loan.fees_balance) == (0, 0, 0)
    charge_off = ChargeOff.objects.get(pk=recommendation.charge_off_id)
    assert (charge_off.status, charge_off.decided_by_id) == ("approved", manager.pk)
    assert recommendation.status == "approved"
    assert (
        recommendation.charged_off == charge_off.principal + charge_off.interest + charge_off.fees
    )
    assert recommendation.charged_off > Decimal("1200.00")
    assert not ledger_problems()
    kinds = [
        (e.data.get("from"), e.data.get("to"))
        for e in CaseEvent.objects.filter(case=candidate, kind="charge_off").order_by("pk")
    ]
    assert kinds == [("", "pending"), ("pending", "approved")]

    # And the next close closes the case as charged off
    _close(date(2026, 6, 15))
    candidate.refresh_from_db()
    assert (candidate.status, candidate.outcome) == ("closed", "charged_off")

    # When the borrower pays after the charge-off: a recovery, tracked on the case by COB
    payment = payment_post(
        loan=loan,
        amount=Decimal("150.00"),
        effective_date=date(2026, 6, 16),
        method="check",
        acting_user=None,
    )
    assert payment.is_recovery
    _close(date(2026, 6, 16))
    recommendation.refresh_from_db()
    assert recommendation.recovered == Decimal("150.00")
    recovery = CaseEvent.objects.get(case=candidate, kind="recovery")
    assert recovery.data["to"] == "150.00"
    _close(date(2026, 6, 17))  # nothing new: no second event
    assert CaseEvent.objects.filter(case=candidate, kind="recovery").count() == 1
    assert not ledger_problems()

    # And the agency placement file: the account, masked contact details, what is left
    placed = placement_record(
        recommendations=placement_rows(), agency="Acme Recovery", acting_user=manager
    )
    assert placed[0].agency == "Acme Recovery"
    assert CaseEvent.objects.filter(case=candidate, kind="placed").exists()
    text = placement_csv(placement_rows(ids=[recommendation.pk]), on=date(2026, 6, 17))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["loan_number"] == loan.loan_number
    assert row["charged_off_amount"] == f"{recommendation.charged_off:.2f}"
    assert row["recovered"] == "150.00"
    assert Decimal(row["balance_placed"]) == recommendation.charged_off - Decimal("150.00")
    assert row["charged_off_on"] == "2026-06-15"  # the business date after the close
    assert "@" in row["email_masked"]
    assert loan.borrower.email not in text
    if loan.borrower.phone:
        assert loan.borrower.phone not in text


def test_the_recommender_cannot_approve(candidate, manager, admin_user):
    # Given a recommendation by someone who may also approve charge-offs
    recommendation = charge_off_recommend(case=candidate, reason="gone", acting_user=manager)

    # When they approve it themselves: 409, nothing posted
    with pytest.raises(ApplicationError) as refused:
        recommendation_decide(recommendation=recommendation, approve=True, acting_user=manager)
    assert refused.value.http_status == 409
    assert refused.value.code == "four_eyes_required"
    assert Loan.objects.get(pk=candidate.loan_id).status == "active"
    recommendation.refresh_from_db()
    assert recommendation.status == "pending"

    # And someone else may
    decided = recommendation_decide(
        recommendation=recommendation, approve=True, acting_user=admin_user
    )
    assert decided.status == "approved"


def test_a_collector_cannot_approve(candidate, collector, collector2):
    recommendation = charge_off_recommend(case=candidate, reason="gone", acting_user=collector)
    with pytest.raises(ApplicationError) as refused:
        recommendation_decide(recommendation=recommendation, approve=True, acting_user=collector2)
    assert refused.value.http_status == 403


def test_a_rejected_recommendation_leaves_the_loan_active(candidate, collector, manager):
    recommendation = charge_off_recommend(case=candidate, reason="gone", acting_user=collector)
    decided = recommendation_decide(
        recommendation=recommendation, approve=False, reason="keep trying", acting_user=manager
    )
    assert decided.status == "rejected"
    assert ChargeOff.objects.get(pk=decided.charge_off_id).status == "rejected"
    assert Loan.objects.get(pk=candidate.loan_id).status == "active"
    with pytest.raises(ApplicationError) as again:
        recommendation_decide(recommendation=decided, approve=True, acting_user=manager)
    assert again.value.http_status == 409
    # a new recommendation may follow
    assert charge_off_recommend(case=candidate, reason="x", acting_user=collector).pk


def test_a_second_recommendation_is_409_and_reason_is_required(candidate, collector):
    with pytest.raises(ApplicationError) as bad:
        charge_off_recommend(case=candidate, reason=" ", acting_user=collector)
    assert bad.value.http_status == 400
    assert "reason" in bad.value.extra["fields"]
    charge_off_recommend(case=candidate, reason="gone", acting_user=collector)
    with pytest.raises(ApplicationError) as twice:
        charge_off_recommend(case=candidate, reason="gone", acting_user=collector)
    assert twice.value.http_status == 409
    assert ChargeOffRecommendation.objects.count() == 1


def test_a_crash_between_servicing_and_the_case_is_recorded_on_retry(candidate, collector, manager):
    # Given servicing approved the charge-off but the recommendation was not updated
    from servicing.services import charge_off_decide

    recommendation = charge_off_recommend(case=candidate, reason="gone", acting_user=collector)
    charge_off_decide(
        loan=Loan.objects.get(pk=candidate.loan_id),
        approve=True,
        reason="direct",
        acting_user=manager,
    )

    # When the manager approves the recommendation (again)
    decided = recommendation_decide(
        recommendation=recommendation, approve=True, acting_user=manager
    )

    # Then the case records servicing's decision; nothing is posted twice
    assert decided.status == "approved"
    assert ChargeOff.objects.filter(status="approved").count() == 1
    assert not ledger_problems()
