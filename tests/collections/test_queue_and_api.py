"""The collections queue page and API: ordering, filters, pagination without N+1, a
manager's reassignment, and who may see and do what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_app.models import CaseEvent, CollectionCase
from servicing.models import Loan
from servicing.selectors import loan_products

from .conftest import FIRST_DUE

pytestmark = pytest.mark.django_db

QUEUE = "/staff/collections/"
API = "/api/v1/collections/cases/"


def _case(loan, *, priority: str, bucket: str = "1-29", assignee=None, status: str = "open"):
    return CollectionCase.objects.create(
        loan=loan,
        status=status,
        opened_on=FIRST_DUE,
        closed_on=None if status == "open" else FIRST_DUE,
        bucket=bucket,
        priority=Decimal(priority),
        amount_past_due=Decimal("10.00"),
        dpd=1,
        assignee=assignee,
        reviewed_on=FIRST_DUE,
    )


@pytest.fixture
def cases(board, collector, collector2):
    low = _case(board("low"), priority="10.00", assignee=collector)
    high = _case(board("high"), priority="30.00", bucket="30-59", assignee=collector2)
    mid = _case(board("mid"), priority="20.00", assignee=collector)
    cured = _case(board("cured"), priority="99.00", status="cured")
    return {"low": low, "high": high, "mid": mid, "cured": cured}


def _queue_ids(response) -> list[int]:
    return [case.pk for case in response.context["cases"]]


# --------------------------------------------------------------------------- the page


def test_the_queue_lists_open_cases_by_priority(client, collector, cases):
    client.force_login(collector)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert _queue_ids(response) == [cases["high"].pk, cases["mid"].pk, cases["low"].pk]
    assert b"Nothing to show yet" not in response.content
    assert cases["high"].loan.loan_number.encode() in response.content
    assert b"Reassign" not in response.content  # a collector reassigns nothing


def test_the_queue_filters_by_bucket_and_mine(client, collector, collector2, cases):
    client.force_login(collector)
    assert _queue_ids(client.get(QUEUE, {"bucket": "30-59"})) == [cases["high"].pk]
    assert _queue_ids(client.get(QUEUE, {"assignee": "me"})) == [cases["mid"].pk, cases["low"].pk]
    client.force_login(collector2)
    assert _queue_ids(client.get(QUEUE, {"assignee": "me"})) == [cases["high"].pk]


def test_a_bad_filter_is_a_form_error(client, collector, cases):
    client.force_login(collector)
    response = client.get(QUEUE, {"bucket": "nope"})
    assert response.status_code == 200
    assert "bucket" in response.context["form"].errors


def test_the_queue_paginates(client, collector, cases, settings):
    settings.COLLECTIONS_QUEUE_PAGE_SIZE = 2
    client.force_login(collector)
    first = client.get(QUEUE)
    assert _queue_ids(first) == [cases["high"].pk, cases["mid"].pk]
    assert first.context["page"].count == 3
    second = client.get(QUEUE, {"cursor": first.context["page"].next_cursor})
    assert _queue_ids(second) == [cases["low"].pk]
    assert second.context["page"].next_cursor is None


def test_the_queue_s_queries_do_not_grow_with_the_page(
    client, manager, board, cases, settings, django_assert_max_num_queries
):
    for n in range(6):
        _case(board(f"more{n}"), priority=f"{n}.00")
    client.force_login(manager)  # the manager's page also lists collectors per row
    client.get(QUEUE)  # sessions, permissions cached
    counts = []
    for size in (1, 8):  # both shorter than the list: the first page counts it
        settings.COLLECTIONS_QUEUE_PAGE_SIZE = size
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE)
        assert len(response.context["cases"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        client.get(QUEUE)


def test_a_manager_reassigns_a_case(client, manager, collector2, cases):
    client.force_login(manager)
    case = cases["low"]
    response = client.post(
        f"/staff/collections/cases/{case.pk}/assign/", {"assignee": collector2.pk}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee_id == collector2.pk
    event = case.events.get(kind=CaseEvent.Kind.REASSIGNED)
    assert event.actor_id == manager.pk
    assert event.data["to"] == collector2.pk
    # the queue shows the manager the reassign forms
    assert b"Reassign" in client.get(QUEUE).content


def test_reassigning_a_closed_case_is_409(client, manager, collector2, cases):
    client.force_login(manager)
    case = cases["cured"]
    response = client.post(
        f"/staff/collections/cases/{case.pk}/assign/", {"assignee": collector2.pk}
    )
    assert response.status_code == 409
    assert b"only an open case is assigned" in response.content
    case.refresh_from_db()
    assert case.assignee_id is None


def test_reassigning_to_a_non_collector_is_a_form_error(client, manager, borrower, cases):
    client.force_login(manager)
    case = cases["low"]
    before = case.assignee_id
    response = client.post(
        f"/staff/collections/cases/{case.pk}/assign/", {"assignee": borrower.user.pk}
    )
    assert response.status_code == 400
    assert "assignee" in response.context["assign_form"].errors
    case.refresh_from_db()
    assert case.assignee_id == before


def test_a_collector_may_not_reassign(client, collector, collector2, cases):
    client.force_login(collector)
    case = cases["low"]
    response = client.post(
        f"/staff/collections/cases/{case.pk}/assign/", {"assignee": collector2.pk}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assignee_id == collector.pk


# --------------------------------------------------------------------------- the API


def test_the_api_lists_cases_by_priority_with_filters(staff_api_client, collector, cases):
    api = staff_api_client(collector)
    body = api.get(API).json()
    assert [c["id"] for c in body["results"]] == [
        cases["cured"].pk,
        cases["high"].pk,
        cases["mid"].pk,
        cases["low"].pk,
    ]
    first = body["results"][1]
    assert first["priority"] == "30.00"
    assert first["bucket"] == "30-59"
    assert first["assignee"]["username"] == "t_collector2"
    assert first["loan_number"] == cases["high"].loan.loan_number

    def ids(**query) -> list[int]:
        response = api.get(API, query)
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert ids(status="open", bucket="1-29") == [cases["mid"].pk, cases["low"].pk]
    assert ids(status="cured") == [cases["cured"].pk]
    assert ids(assignee="me") == [cases["mid"].pk, cases["low"].pk]
    assert ids(assignee=str(cases["high"].assignee_id)) == [cases["high"].pk]
    page = api.get(API, {"limit": "1"}).json()
    assert page["count"] == 4
    second = api.get(page["next"]).json()
    assert [c["id"] for c in second["results"]] == [cases["high"].pk]
    assert second["count"] is None  # counted on the first page only


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("status=", "status"),
        ("bucket=1-29&bucket=30-59", "bucket"),
        ("assignee=someone", "assignee"),
        ("assignee=0", "assignee"),
        ("bucket=" + "x" * 17, "bucket"),
        ("limit=501", "limit"),
        ("product=", "product"),
        ("product=" + "x" * 65, "product"),
        ("cursor=nope", "cursor"),
        ("offset=10", "offset"),
    ],
)
def test_a_bad_api_filter_is_a_400_naming_it(staff_api_client, collector, cases, query, field):
    response = staff_api_client(collector).get(f"{API}?{query}")
    assert response.status_code == 400
    assert field in str(response.json())


def test_the_api_list_s_queries_do_not_grow_with_the_page(
    staff_api_client, collector, board, cases, django_assert_max_num_queries
):
    for n in range(5):
        _case(board(f"more{n}"), priority=f"{n}.00", assignee=collector)
    api = staff_api_client(collector)
    api.get(API)  # permissions cached
    counts = []
    for limit in (1, 8):  # both shorter than the list: the first page counts it
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get(API, {"limit": limit}).json()["results"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        api.get(API)


def test_the_api_shows_a_case_with_its_history(staff_api_client, manager, collector2, cases):
    api = staff_api_client(manager)
    case = cases["low"]
    response = api.post(f"{API}{case.pk}/assign/", {"assignee": collector2.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["id"] == collector2.pk
    detail = api.get(f"{API}{case.pk}/").json()
    assert [e["kind"] for e in detail["events"]] == ["reassigned"]
    assert detail["events"][0]["actor_id"] == manager.pk
    assert api.get(f"{API}999999/").status_code == 404


def test_the_api_refuses_what_the_policy_refuses(
    staff_api_client, api_client, borrower, servicing_agent, collector, collector2, cases
):
    case = cases["low"]
    api_client.force_authenticate(user=borrower.user)
    assert api_client.get(API).status_code == 403
    assert api_client.get(f"{API}{case.pk}/").status_code == 403
    assert staff_api_client(servicing_agent).get(API).status_code == 403
    collector_api = staff_api_client(collector)
    response = collector_api.post(
        f"{API}{case.pk}/assign/", {"assignee": collector2.pk}, format="json"
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assignee_id != collector2.pk


def test_the_api_assign_refuses_bad_input_and_closed_cases(
    staff_api_client, manager, borrower, collector2, cases
):
    api = staff_api_client(manager)
    low, cured = cases["low"], cases["cured"]
    for body in ({}, {"assignee": "x"}, {"assignee": borrower.user.pk}):
        response = api.post(f"{API}{low.pk}/assign/", body, format="json")
        assert response.status_code == 400, body
        assert "assignee" in str(response.json())
    response = api.post(f"{API}{cured.pk}/assign/", {"assignee": collector2.pk}, format="json")
    assert response.status_code == 409
    form = api.post(f"{API}{low.pk}/assign/", {"assignee": collector2.pk}, format="multipart")
    assert form.status_code == 415


def test_the_list_sorts_the_cases_alone_and_reads_their_loans_by_key(
    staff_api_client, collector, board, cases
):
    """No index holds priority (the nightly rewrite stays HOT), so the page's cases are picked
    by a bounded sort of the case table alone: the list's first query joins no loan (with the
    loans joined, PostgreSQL sorted every matching case), and the product filter is the case's
    own column. The loans, borrowers and assignees come after, by key."""
    with CaptureQueriesContext(connection) as queries:
        response = staff_api_client(collector).get(API, {"product": cases["low"].product_code})
    assert response.status_code == 200
    [listing] = [
        q["sql"]
        for q in queries
        if "ORDER BY" in q["sql"] and CollectionCase._meta.db_table in q["sql"]
    ]
    assert "JOIN" not in listing.upper()
    assert "servicing_loan" not in listing


def test_a_case_keeps_its_loan_s_product(board):
    loan = board("product")
    case = _case(loan, priority="1.00")
    assert case.product_code == loan.product_code != ""
    assert CollectionCase.objects.filter(product_code=loan.product_code).get() == case


def test_the_queue_s_products_are_the_book_s(board):
    """The product filter's choices: each product of the book's loans once, by code, with a
    loan's name for it (a loose index scan, however many loans)."""
    loans = [board(name) for name in ("p1", "p2", "p3")]
    Loan.objects.filter(pk=loans[1].pk).update(product_code="AUTO", product_name="Car loan")
    expected = sorted(set(Loan.objects.values_list("product_code", "product_name")))
    assert loan_products() == expected
    assert [code for code, _ in loan_products()] == sorted({code for code, _ in expected})
