"""Promises to pay: validation (400 naming the field, nothing recorded), the priority they
move, and close of business marking each instalment kept or broken after its date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from collections_app import selectors
from collections_app.errors import CaseClosed, CollectionsValidationError
from collections_app.models import CaseEvent, CollectionCase, PromiseToPay
from collections_app.priority import case_priority, promise_factor
from collections_app.services.promises import promise_record
from servicing.cob.runner import cob_close_through
from servicing.services import business_date_set, payment_post

from .conftest import FIRST_DUE

pytestmark = pytest.mark.django_db

ON = date(2026, 3, 6)
API = "/api/v1/collections/cases/"


def test_promise_factor_lowers_while_pending_and_raises_per_broken_promise():
    assert promise_factor(pending=1, broken=3) == Decimal("0.5")
    assert promise_factor(pending=0, broken=0) == 1
    assert promise_factor(pending=0, broken=1) == Decimal("1.25")
    assert promise_factor(pending=0, broken=9) == 2


@pytest.mark.parametrize(
    ("instalments", "field"),
    [
        ([], "instalments"),
        ([(Decimal("0"), ON)], "instalments[0].amount"),
        ([(Decimal("-5.00"), ON)], "instalments[0].amount"),
        ([(Decimal("1.001"), ON)], "instalments[0].amount"),
        ([(Decimal("10.00"), ON - timedelta(days=1))], "instalments[0].due_date"),
        (
            [(Decimal("10.00"), ON + timedelta(days=7)), (Decimal("10.00"), ON)],
            "instalments[1].due_date",
        ),
    ],
)
def test_a_bad_promise_is_a_400_naming_the_field(open_case, collector, instalments, field):
    case = open_case()
    with pytest.raises(CollectionsValidationError) as bad:
        promise_record(case=case, instalments=instalments, acting_user=collector, on=ON)
    assert bad.value.http_status == 400
    assert field in bad.value.extra["fields"]
    assert not PromiseToPay.objects.exists()
    assert not CaseEvent.objects.filter(case=case).exists()


def test_a_promise_of_instalments_lowers_the_priority(open_case, collector):
    case = open_case()
    promises = promise_record(
        case=case,
        instalments=[(Decimal("50.00"), ON), (Decimal("50.00"), ON + timedelta(days=14))],
        acting_user=collector,
        on=ON,
    )
    assert [(p.sequence, p.status) for p in promises] == [(1, "pending"), (2, "pending")]
    assert len({p.promise_key for p in promises}) == 1
    case.refresh_from_db()
    assert case.priority == case_priority(
        amount_past_due=Decimal("100.00"), dpd=20, promise_factor=Decimal("0.5")
    )
    event = CaseEvent.objects.get(case=case, kind="promise")
    assert event.data["total"] == "100.00"
    assert len(event.data["instalments"]) == 2


def test_no_promise_on_a_closed_case(open_case, collector):
    case = open_case(status="cured", closed_on=ON)
    with pytest.raises(CaseClosed):
        promise_record(case=case, instalments=[(Decimal("5.00"), ON)], acting_user=collector, on=ON)


def test_the_api_records_a_promise_and_names_bad_fields(staff_api_client, open_case, collector):
    case = open_case()
    api = staff_api_client(collector)
    url = f"{API}{case.pk}/promises/"
    for n, (body, field) in enumerate(
        [
            (
                {"instalments": [{"amount": "0.00", "due_date": "2026-03-10"}]},
                "instalments[0].amount",
            ),
            (
                {"instalments": [{"amount": "-1", "due_date": "2026-03-10"}]},
                "instalments[0].amount",
            ),
            (
                {"instalments": [{"amount": "5.00", "due_date": "2026-03-01"}]},
                "instalments[0].due_date",
            ),
            ({"instalments": []}, "instalments"),
            ({}, "instalments"),
            ({"instalments": ["x"]}, "instalments[0]"),
        ]
    ):
        response = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"bad-{n}")
        assert response.status_code == 400, (body, response.json())
        assert field in response.json()["extra"]["fields"], response.json()
    assert not PromiseToPay.objects.exists()
    body = {
        "instalments": [
            {"amount": "40.00", "due_date": "2026-03-10"},
            {"amount": "60.00", "due_date": "2026-03-20"},
        ]
    }
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert first.status_code == 201, first.json()
    assert [p["amount"] for p in first.json()["results"]] == ["40.00", "60.00"]
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PromiseToPay.objects.count() == 2
    assert len(api.get(url).json()["results"]) == 2


def test_the_case_page_records_a_promise_of_several_instalments(client, open_case, collector):
    case = open_case()
    client.force_login(collector)
    url = f"/staff/collections/cases/{case.pk}/promises/"
    body = {
        "promise-idempotency_key": "6f1c3d3e-0000-4000-8000-0000000000a1",
        "promise-amount_1": "0",
        "promise-due_date_1": "2026-03-10",
    }
    refused = client.post(url, body)
    assert refused.status_code == 400
    assert "above zero" in refused.content.decode()
    body |= {
        "promise-idempotency_key": "6f1c3d3e-0000-4000-8000-0000000000a2",
        "promise-amount_1": "30.00",
        "promise-amount_2": "70.00",
        "promise-due_date_2": "2026-03-01",
    }
    past = client.post(url, body)
    assert past.status_code == 400
    assert "cannot be dated in the past" in past.content.decode()
    body |= {
        "promise-idempotency_key": "6f1c3d3e-0000-4000-8000-0000000000a3",
        "promise-due_date_2": "2026-03-27",
    }
    assert client.post(url, body).status_code == 302
    assert list(PromiseToPay.objects.order_by("sequence").values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("70.00"),
    ]


# --------------------------------------------------------------------------- close of business


def _open_case(loan) -> CollectionCase:
    return CollectionCase.objects.get(loan=loan, status="open")


def test_close_of_business_marks_promises_kept_or_broken_and_moves_priority(board, collector):
    # Given a loan that fell behind on 2026-02-14 and has a case
    loan = board("promise")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    cob_close_through(through=date(2026, 2, 20))
    case = _open_case(loan)
    on = selectors.today()
    assert on == date(2026, 2, 21)
    base = case.priority

    # When the borrower promises two instalments
    first, second = promise_record(
        case=case,
        instalments=[(Decimal("20.00"), date(2026, 2, 23)), (Decimal("30.00"), date(2026, 2, 26))],
        acting_user=collector,
        on=on,
    )
    case.refresh_from_db()
    assert case.priority < base  # lowered while pending

    # and pays the first on time: kept the day after its date, the second still pending
    cob_close_through(through=date(2026, 2, 21))
    payment_post(loan=loan, amount=Decimal("20.00"), method="ach", acting_user=None)
    cob_close_through(through=date(2026, 2, 24))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.kept_amount, first.settled_on) == (
        "kept",
        Decimal("20.00"),
        date(2026, 2, 24),
    )
    assert second.status == "pending"
    case = _open_case(loan)
    assert case.priority == case_priority(
        amount_past_due=case.amount_past_due, dpd=case.dpd, promise_factor=Decimal("0.5")
    )
    assert CaseEvent.objects.filter(case=case, kind="promise_kept").count() == 1

    # When the second date passes without the rest: broken, and the priority goes up
    cob_close_through(through=date(2026, 2, 27))
    second.refresh_from_db()
    assert (second.status, second.kept_amount) == ("broken", Decimal("0.00"))
    case = _open_case(loan)
    assert case.priority == case_priority(
        amount_past_due=case.amount_past_due, dpd=case.dpd, promise_factor=Decimal("1.25")
    )
    assert case.priority > case_priority(amount_past_due=case.amount_past_due, dpd=case.dpd)
    broken = CaseEvent.objects.get(case=case, kind="promise_broken")
    assert broken.data["promise_id"] == second.pk
    assert broken.actor_id is None

    # Closing more days settles nothing twice
    cob_close_through(through=date(2026, 3, 2))
    assert CaseEvent.objects.filter(case=case, kind__startswith="promise_").count() == 2


def test_a_partial_payment_breaks_the_promise_and_records_what_was_kept(board, collector):
    loan = board("partial")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    cob_close_through(through=date(2026, 2, 20))
    case = _open_case(loan)
    (promise,) = promise_record(
        case=case,
        instalments=[(Decimal("50.00"), date(2026, 2, 22))],
        acting_user=collector,
        on=selectors.today(),
    )
    payment_post(loan=loan, amount=Decimal("15.00"), method="ach", acting_user=None)
    cob_close_through(through=date(2026, 2, 23))
    promise.refresh_from_db()
    assert (promise.status, promise.kept_amount) == ("broken", Decimal("15.00"))
