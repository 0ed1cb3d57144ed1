"""Collections' webhook events (issue 12): each written to the outbox with the change it
reports (none for a refused change), close of business's set-based and exactly once per
business date, with the payload `case_id`, `loan_id`, `business_date` and the type's fields.
Runs on SQLite and PostgreSQL (the close-of-business SQL differs)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from collections_app.cob import collections_close
from collections_app.models import CollectionCase, HardshipPlan
from collections_app.services.assignment import case_assign
from collections_app.services.promises import promise_record
from collections_app.services.workouts import (
    charge_off_recommend,
    hardship_plan_decide,
    hardship_plan_request,
    recommendation_decide,
)
from collections_app.webhook_events import EVENTS, event_type_of
from lendcore.errors import ApplicationError
from lendcore.webhooks.events import EVENT_TYPES
from lendcore.webhooks.models import Event, WebhookDelivery
from lendcore.webhooks.services import body_of, events_dispatch, subscription_create
from servicing.cob.runner import cob_close_through
from servicing.services import business_date_set, payment_post

from .conftest import FIRST_DUE

pytestmark = pytest.mark.django_db


def _close(day: date) -> None:
    results = cob_close_through(through=day)
    assert all(outcome in ("closed", "already closed") for _, outcome, _ in results), results


def _events(prefixes=("collection_case.", "promise_to_pay.", "hardship_plan.", "charge_off_rec")):
    return [
        (e.type, e.loan_id, e.payload)
        for e in Event.objects.order_by("id")
        if e.type.startswith(prefixes)
    ]


def _types(**filters) -> list[str]:
    return [t for t, _, _ in _events() if all(f(t) for f in filters.values())]


def test_every_collections_event_is_a_subscribable_type():
    assert set(EVENTS) <= set(EVENT_TYPES)
    assert event_type_of("opened", {}) == "collection_case.opened"
    assert event_type_of("reassigned", {"from": 1, "to": 2}) == "collection_case.assigned"
    assert event_type_of("hardship", {"to": "active"}) == "hardship_plan.approved"
    assert event_type_of("charge_off", {"to": "pending"}) == "charge_off_recommendation.made"
    assert event_type_of("contact", {}) is None
    assert event_type_of("bucket_changed", {"to": "30-59"}) is None


def test_close_of_business_writes_its_events_once_per_business_date(board, collector, admin_user):
    # Given two loans first due 2026-02-14, nothing paid
    a, b = board("a"), board("b")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(FIRST_DUE)
    assert _events() == []

    # When the next day closes: a case each, opened and assigned, in the close's transaction
    _close(date(2026, 2, 15))
    case_a = CollectionCase.objects.get(loan=a)
    events = [(t, loan_id) for t, loan_id, _ in _events()]
    assert sorted(events) == sorted(
        [
            ("collection_case.opened", a.pk),
            ("collection_case.opened", b.pk),
            ("collection_case.assigned", a.pk),
            ("collection_case.assigned", b.pk),
        ]
    )
    # each loan's events in the order of its history
    assert [t for t, loan_id in events if loan_id == a.pk] == [
        "collection_case.opened",
        "collection_case.assigned",
    ]
    opened = Event.objects.get(type="collection_case.opened", loan_id=a.pk)
    assert opened.payload == {
        "case_id": case_a.pk,
        "loan_id": a.pk,
        "business_date": "2026-02-15",
        "dpd": 1,
        "bucket": "1-29",
    }
    assigned = Event.objects.get(type="collection_case.assigned", loan_id=a.pk)
    assert assigned.payload == {
        "case_id": case_a.pk,
        "loan_id": a.pk,
        "business_date": "2026-02-15",
        "assignee_id": collector.pk,
        "previous_assignee_id": None,
    }
    assert opened.dispatched_at is None  # waiting for delivery

    # A subscriber to the type gets a delivery of each row close of business wrote, its body
    # the Standard Webhooks shape
    subscription, _ = subscription_create(
        url="http://127.0.0.1:9/hook",
        event_types=["collection_case.opened"],
        acting_user=admin_user,
    )
    events_dispatch(limit=100)
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 2
    body = json.loads(body_of(Event.objects.get(pk=opened.pk)))
    assert (body["type"], body["data"]) == ("collection_case.opened", opened.payload)
    assert opened.webhook_id.startswith("msg_")

    # When the step runs again for the same day, and the next day closes with no change:
    # no event again
    count = Event.objects.count()
    lo, hi = min(a.pk, b.pk), max(a.pk, b.pk)
    assert collections_close(lo, hi, date(2026, 2, 15)) == 0
    assert Event.objects.count() == count
    _close(date(2026, 2, 16))
    assert len(_events()) == 4

    # When a pays what is past due: its case is cured by the next close, once
    payment_post(
        loan=a, amount=Decimal("500.00"), method="ach", acting_user=None, allow_credit=True
    )
    _close(date(2026, 2, 17))
    collections_close(lo, hi, date(2026, 2, 17))
    cured = [e for e in _events() if e[0] == "collection_case.cured"]
    assert cured == [
        (
            "collection_case.cured",
            a.pk,
            {
                "case_id": case_a.pk,
                "loan_id": a.pk,
                "business_date": "2026-02-17",
                "loan_status": "active",
            },
        )
    ]


def test_promises_made_kept_and_broken(board, collector):
    loan = board("promise")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(date(2026, 2, 20))
    case = CollectionCase.objects.get(loan=loan, status="open")
    before = len(_events())

    # A refused promise (a date in the past) writes nothing
    with pytest.raises(ApplicationError):
        promise_record(
            case=case,
            instalments=[(Decimal("20.00"), date(2026, 2, 1))],
            acting_user=collector,
            on=date(2026, 2, 21),
        )
    assert len(_events()) == before

    first, second = promise_record(
        case=case,
        instalments=[(Decimal("20.00"), date(2026, 2, 23)), (Decimal("30.00"), date(2026, 2, 26))],
        acting_user=collector,
        on=date(2026, 2, 21),
    )
    made = Event.objects.get(type="promise_to_pay.made")
    assert made.loan_id == loan.pk
    assert made.payload == {
        "case_id": case.pk,
        "loan_id": loan.pk,
        "business_date": "2026-02-21",
        "promise_key": first.promise_key,
        "instalments": [
            {"amount": "20.00", "due_date": "2026-02-23"},
            {"amount": "30.00", "due_date": "2026-02-26"},
        ],
        "total": "50.00",
    }

    _close(date(2026, 2, 21))
    payment_post(loan=loan, amount=Decimal("20.00"), method="ach", acting_user=None)
    _close(date(2026, 2, 27))
    kept = Event.objects.get(type="promise_to_pay.kept")
    broken = Event.objects.get(type="promise_to_pay.broken")
    assert kept.payload == {
        "case_id": case.pk,
        "loan_id": loan.pk,
        "business_date": "2026-02-24",
        "promise_id": first.pk,
        "promise_key": first.promise_key,
        "sequence": 1,
        "due_date": "2026-02-23",
    }
    assert (broken.payload["promise_id"], broken.payload["business_date"]) == (
        second.pk,
        "2026-02-27",
    )
    assert kept.id < broken.id


def test_a_reassignment_is_an_event_a_refused_one_is_not(open_case, collector, collector2, manager):
    case = open_case()
    with pytest.raises(ApplicationError):  # not a collector
        case_assign(case=case, assignee_id=10**9, acting_user=manager, on=date(2026, 3, 6))
    with pytest.raises(ApplicationError):  # not a manager
        case_assign(
            case=case, assignee_id=collector2.pk, acting_user=collector, on=date(2026, 3, 6)
        )
    assert _events() == []
    case_assign(case=case, assignee_id=collector2.pk, acting_user=manager, on=date(2026, 3, 6))
    [(type_, loan_id, payload)] = _events()
    assert (type_, loan_id) == ("collection_case.assigned", case.loan_id)
    assert payload == {
        "case_id": case.pk,
        "loan_id": case.loan_id,
        "business_date": "2026-03-06",
        "assignee_id": collector2.pk,
        "previous_assignee_id": collector.pk,
    }


def test_hardship_plan_events(board, collector, collector2, manager):
    loan = board("hardship")
    _close(date(2026, 2, 20))  # 6 days past due: a case
    case = CollectionCase.objects.get(loan=loan, status="open")
    start = len(_events())

    def request():
        return hardship_plan_request(
            loan=loan, kind="deferral", months=2, reason="lost job", acting_user=collector
        )

    # Requested, refused (a collector may not decide), rejected
    plan = request()
    with pytest.raises(ApplicationError):
        hardship_plan_decide(plan=plan, approve=True, acting_user=collector2)
    hardship_plan_decide(plan=plan, approve=False, reason="no", acting_user=manager)
    # requested again and approved
    plan = request()
    with pytest.raises(ApplicationError):  # a second open plan
        request()
    plan = hardship_plan_decide(plan=plan, approve=True, reason="ok", acting_user=manager)
    got = _events()[start:]
    assert [t for t, _, _ in got] == [
        "hardship_plan.requested",
        "hardship_plan.rejected",
        "hardship_plan.requested",
        "hardship_plan.approved",
    ]
    assert got[0][2] == {
        "case_id": case.pk,
        "loan_id": loan.pk,
        "business_date": "2026-02-21",
        "plan_id": got[0][2]["plan_id"],
        "reason": "lost job",
        "kind": "deferral",
        "months": 2,
        "channel": "staff",
    }
    assert got[3][2] == {
        "case_id": case.pk,
        "loan_id": loan.pk,
        "business_date": "2026-02-21",
        "plan_id": plan.pk,
        "reason": "ok",
    }

    # Close of business: the case is cured (the loan is current), then the plan completes
    # (its end brought forward) -- each once
    HardshipPlan.objects.filter(pk=plan.pk).update(ends_on=date(2026, 2, 22))
    _close(date(2026, 2, 22))
    collections_close(loan.pk, loan.pk, date(2026, 2, 22))
    got = _events()[start + 4 :]
    assert [t for t, _, _ in got] == ["collection_case.cured", "hardship_plan.completed"]
    assert got[1][2] == {
        "case_id": case.pk,
        "loan_id": loan.pk,
        "business_date": "2026-02-22",
        "plan_id": plan.pk,
        "dpd": 0,
        "loan_status": "active",
    }


def test_charge_off_recommendation_events(open_case, collector, manager):
    case = open_case()
    # refused: no reason
    with pytest.raises(ApplicationError):
        charge_off_recommend(case=case, reason=" ", acting_user=collector)
    assert _events() == []
    first = charge_off_recommend(case=case, reason="no contact", acting_user=collector)
    recommendation_decide(recommendation=first, approve=False, reason="wait", acting_user=manager)
    second = charge_off_recommend(case=case, reason="gone", acting_user=collector)
    with pytest.raises(ApplicationError):  # four eyes: not the recommender's to decide
        recommendation_decide(recommendation=second, approve=True, acting_user=collector)
    recommendation_decide(recommendation=second, approve=True, reason="ok", acting_user=manager)
    got = _events()
    assert [t for t, _, _ in got] == [
        "charge_off_recommendation.made",
        "charge_off_recommendation.rejected",
        "charge_off_recommendation.made",
        "charge_off_recommendation.approved",
    ]
    assert got[0][2] == {
        "case_id": case.pk,
        "loan_id": case.loan_id,
        "business_date": "2026-03-06",
        "recommendation_id": first.pk,
        "reason": "no contact",
        "dpd": got[0][2]["dpd"],
    }
    assert got[3][2]["recommendation_id"] == second.pk
    # servicing's own event of the charge-off is there too, keyed by the same loan
    assert Event.objects.filter(type="loan.charged_off", loan_id=case.loan_id).count() == 1
