"""A scripted month of business dates through the real close of business (issue 11's
acceptance): loans fall behind, cases open and are assigned, dunning goes out on the right
days, promises are kept and broken, a hardship plan is applied, cures the loan and
completes, and one loan reaches 120 days past due and is charged off with two people.

The month loans are disbursed 2026-01-14 (first due 2026-02-14); the old loan on 2025-10-01
(first due 2025-11-01, 120 days past due on 2026-03-01). Close of business runs every day
from 2026-02-14 to 2026-03-21 (before that no day was closed: a loan never closed is closed
from the run's date, its days past due counted from its oldest unpaid due date).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from collections_app.models import (
    CaseEvent,
    ChargeOffRecommendation,
    CollectionCase,
    DunningNotice,
    HardshipPlan,
    PromiseToPay,
)
from collections_app.services.promises import promise_record
from collections_app.services.workouts import (
    charge_off_recommend,
    hardship_plan_decide,
    hardship_plan_request,
    recommendation_decide,
)
from collections_app.sms import RecordingSms
from collections_app.workouts_selectors import charge_off_candidates
from servicing.cob.runner import cob_close_through
from servicing.ledger import ledger_problems
from servicing.models import ChargeOffCandidate, Installment, Loan
from servicing.selectors import business_date_get
from servicing.services import business_date_set, payment_post
from tests.servicing.factories import board_loan

from .conftest import DISBURSED, FIRST_DUE

pytestmark = pytest.mark.django_db

OLD_DISBURSED = date(2025, 10, 1)  # first due 2025-11-01
LAST_DAY = date(2026, 3, 21)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    RecordingSms.outbox.clear()


def _case(loan: Loan) -> CollectionCase | None:
    return CollectionCase.objects.filter(loan=loan, status=CollectionCase.Status.OPEN).first()


def _refresh(loans: dict[str, Loan]) -> dict[str, Loan]:
    return {name: Loan.objects.get(pk=loan.pk) for name, loan in loans.items()}


def _pay_due(loan: Loan, on: date) -> None:
    """Pay what is left of the loan's installments due on `on` (the current schedule)."""
    for inst in Installment.objects.filter(loan=loan, schedule__is_current=True, due_date=on):
        if inst.remaining > 0:
            payment_post(
                loan=Loan.objects.get(pk=loan.pk),
                amount=inst.remaining,
                effective_date=on,
                method="ach",
                acting_user=None,
            )


def test_a_scripted_month_of_collections(
    borrower, collector, collector2, manager, django_capture_on_commit_callbacks
):
    borrower.phone = "+15555550100"
    borrower.save(update_fields=["phone"])
    # Given the old loan (boarded in October) and the month's loans (boarded in January)
    business_date_set(business_date=OLD_DISBURSED, acting_user=None)
    loans = {
        "old": board_loan(borrower=borrower, application_ref="SM-old", disbursed_on=OLD_DISBURSED)
    }
    business_date_set(business_date=DISBURSED, acting_user=None)
    for name in ("on_time", "dunned", "kept", "broken", "hardship"):
        loans[name] = board_loan(
            borrower=borrower, application_ref=f"SM-{name}", disbursed_on=DISBURSED
        )
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    seen: dict[str, dict[str, date]] = {}  # loan -> what happened first, by business date

    def note(name: str, what: str, day: date) -> None:
        seen.setdefault(name, {}).setdefault(what, day)

    day = FIRST_DUE
    while day <= LAST_DAY:
        assert business_date_get() == day
        # --- the day's business, before the close
        _pay_due(loans["on_time"], day)
        if day > date(2026, 2, 21):  # the plan's installments are paid as billed
            _pay_due(loans["hardship"], day)
        if day == date(2026, 2, 20):
            for name, amount in (("kept", "60.00"), ("broken", "60.00")):
                promise_record(
                    case=_case(loans[name]),
                    instalments=[(Decimal(amount), date(2026, 2, 25))],
                    acting_user=collector,
                    on=day,
                )
            hardship_plan_request(
                loan=loans["hardship"],
                kind=HardshipPlan.Kind.PAYMENT_REDUCTION,
                months=1,
                reason="Lost a second job for a month.",
                acting_user=collector,
            )
        if day == date(2026, 2, 21):
            plan = HardshipPlan.objects.get(loan_id=loans["hardship"].pk)
            hardship_plan_decide(plan=plan, approve=True, reason="Verified", acting_user=manager)
            assert Loan.objects.get(pk=loans["hardship"].pk).in_hardship
        if day == date(2026, 2, 24):  # the kept promise is paid the day before its date
            payment_post(
                loan=Loan.objects.get(pk=loans["kept"].pk),
                amount=Decimal("60.00"),
                effective_date=day,
                method="ach",
                acting_user=None,
            )
        if day == date(2026, 3, 2):  # the candidate of yesterday's close: two people
            [case] = charge_off_candidates()
            assert case.loan_id == loans["old"].pk
            recommendation = charge_off_recommend(
                case=case, reason="No contact for four months", acting_user=collector
            )
        if day == date(2026, 3, 3):
            recommendation_decide(
                recommendation=recommendation, approve=True, reason="Agreed", acting_user=manager
            )
        # --- the close
        with django_capture_on_commit_callbacks(execute=True):
            [(_d, outcome, run)] = cob_close_through(through=day)
        assert outcome == "closed", run and run.error
        # --- what the close did
        for name, loan in _refresh(loans).items():
            case = _case(loan)
            if case is not None:
                note(name, "case", case.opened_on)
                if case.assignee_id is not None:
                    note(name, "assigned", day)
            if loan.dpd >= 120:
                note(name, "120", day)
        day += timedelta(days=1)

    loans = _refresh(loans)
    # Loans fall behind and cases open the day after the missed due date, assigned at once
    # (round-robin over the collectors and the manager); the loan paid on time has none
    for name in ("dunned", "kept", "broken", "hardship"):
        assert seen[name]["case"] == FIRST_DUE + timedelta(days=1), name
        assert seen[name]["assigned"] == FIRST_DUE + timedelta(days=1), name
    assert not CollectionCase.objects.filter(loan=loans["on_time"]).exists()
    assignees = set(CollectionCase.objects.values_list("assignee_id", flat=True))
    assert len(assignees) >= 2
    # The old loan was past due when close of business first ran: its case opened then
    assert seen["old"]["case"] == FIRST_DUE

    # Dunning on the right days: e-mail at 3 days past due, SMS at 10, the letter at 30
    sent = {
        n.channel: n.business_date
        for n in DunningNotice.objects.filter(loan=loans["dunned"], status="sent")
    }
    assert sent == {
        "email": FIRST_DUE + timedelta(days=3),
        "sms": FIRST_DUE + timedelta(days=10),
        "letter": FIRST_DUE + timedelta(days=30),
    }
    assert CaseEvent.objects.filter(case__loan=loans["dunned"], kind="dunning").count() >= 3

    # Promises settled the day after their date: one kept, one broken
    kept = PromiseToPay.objects.get(loan=loans["kept"])
    broken = PromiseToPay.objects.get(loan=loans["broken"])
    assert (kept.status, kept.settled_on, kept.kept_amount) == (
        "kept",
        date(2026, 2, 26),
        Decimal("60.00"),
    )
    assert (broken.status, broken.settled_on) == ("broken", date(2026, 2, 26))

    # The hardship plan cured the loan (its case cured at the next close) and completed
    plan = HardshipPlan.objects.get(loan_id=loans["hardship"].pk)
    assert plan.requested_by == collector
    assert plan.decided_by == manager
    assert plan.status == HardshipPlan.Status.COMPLETED
    assert plan.ended_on == plan.ends_on == date(2026, 3, 21)
    cured = CollectionCase.objects.get(loan=loans["hardship"])
    assert (cured.status, cured.closed_on) == ("cured", date(2026, 2, 21))
    assert loans["hardship"].dpd == 0
    assert not loans["hardship"].in_hardship

    # The old loan reached 120 days past due on 2026-03-01, was listed, recommended by the
    # collector and approved by the manager: charged off; its case closed
    assert seen["old"]["120"] == date(2026, 3, 1)
    assert ChargeOffCandidate.objects.filter(loan=loans["old"]).exists()
    assert (
        CaseEvent.objects.filter(case__loan=loans["old"], kind="charge_off_candidate").count() == 1
    )
    assert loans["old"].status == Loan.Status.CHARGED_OFF
    rec = ChargeOffRecommendation.objects.get(loan_id=loans["old"].pk)
    assert (rec.status, rec.recommended_by, rec.decided_by) == ("approved", collector, manager)
    old_case = CollectionCase.objects.get(loan=loans["old"])
    assert (old_case.status, old_case.outcome) == ("closed", "charged_off")

    assert ledger_problems() == []
