"""The collections queue's keyset (cursor) pages, API and staff page: every case once in
priority order across pages (ties by id), forwards and back, filters kept on every page, a
query count that grows neither with the page size nor with the depth, and a bad cursor
refused (400 naming it; a form error on the page)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_app.models import CollectionCase
from lendcore.core.keyset import AFTER, BEFORE, CursorError, cursor_decode, cursor_encode
from servicing.models import Loan

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
def book(board, collector, collector2):
    """Seven open cases on three priorities (ties of three and two), two buckets, two
    collectors, two products; and five cured cases of one loan, all at priority 0."""
    loans = [board(f"k{n}") for n in range(8)]
    Loan.objects.filter(pk__in=[loans[1].pk, loans[4].pk, loans[6].pk]).update(product_code="AUTO")
    for loan in loans:
        loan.refresh_from_db()
    spec = [
        ("20.00", "1-29", collector),
        ("20.00", "30-59", collector2),
        ("20.00", "1-29", collector),
        ("10.00", "30-59", collector),
        ("10.00", "1-29", collector2),
        ("30.00", "1-29", collector),
        ("5.00", "30-59", collector),
    ]
    open_cases = [
        _case(loans[n], priority=p, bucket=b, assignee=a) for n, (p, b, a) in enumerate(spec)
    ]
    cured = [_case(loans[7], priority="0.00", status="cured") for _ in range(5)]
    return open_cases + cured


def _order(cases) -> list[int]:
    return [c.pk for c in sorted(cases, key=lambda c: (-c.priority, c.pk))]


def _walk(api, query: dict) -> tuple[list[list[int]], dict]:
    """Follow `next` from the first page: the pages' ids and the last page's body."""
    body = api.get(API, query).json()
    pages = [[c["id"] for c in body["results"]]]
    while body["next"]:
        response = api.get(body["next"])
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([c["id"] for c in body["results"]])
    return pages, body


@pytest.mark.parametrize("limit", ["1", "2", "3", "5"])
def test_the_api_s_pages_hold_every_case_once_in_order_through_ties(
    staff_api_client, manager, book, limit
):
    api = staff_api_client(manager)
    pages, last = _walk(api, {"limit": limit})
    ids = [pk for page in pages for pk in page]
    assert ids == _order(book)  # none repeated, none skipped, ties by id
    assert all(len(page) == int(limit) for page in pages[:-1])
    # and back: `previous` from the last page gives the same pages in reverse
    back = [[c["id"] for c in last["results"]]]
    body = last
    while body["previous"]:
        body = api.get(body["previous"]).json()
        back.append([c["id"] for c in body["results"]])
    assert back[::-1] == pages
    assert body["count"] == len(book)  # back at the first page: counted again


def test_the_api_keeps_every_filter_on_every_page(staff_api_client, collector, collector2, book):
    api = staff_api_client(collector)
    expected = {
        "status=open": [c for c in book if c.status == "open"],
        "status=cured": [c for c in book if c.status == "cured"],
        "bucket=30-59": [c for c in book if c.bucket == "30-59"],
        "assignee=me": [c for c in book if c.assignee_id == collector.pk],
        f"assignee={collector2.pk}": [c for c in book if c.assignee_id == collector2.pk],
        "product=AUTO": [c for c in book if c.loan.product_code == "AUTO"],
        "status=open&bucket=1-29&assignee=me": [
            c
            for c in book
            if c.status == "open" and c.bucket == "1-29" and c.assignee_id == collector.pk
        ],
    }
    for query, cases in expected.items():
        params = dict(part.split("=") for part in query.split("&")) | {"limit": "2"}
        pages, _ = _walk(api, params)
        assert [pk for page in pages for pk in page] == _order(
            CollectionCase.objects.filter(pk__in=[c.pk for c in cases])
        ), query


def test_a_cursor_past_the_end_is_an_empty_last_page(staff_api_client, manager, book):
    api = staff_api_client(manager)
    cursor = cursor_encode(AFTER, Decimal("-1.00"), 1)
    body = api.get(API, {"cursor": cursor}).json()
    assert body == {"count": None, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "!!!!",
        cursor_encode(AFTER, Decimal("1.00"), 1)[:-2],  # cut short
        "bnwxfDF8MQ",  # n|1|1 with a bad direction letter ("nx")
        cursor_encode(AFTER, Decimal("1.00"), 1) + "A" * 100,  # too long
    ],
)
def test_a_bad_cursor_is_a_400_naming_it(staff_api_client, manager, book, cursor):
    response = staff_api_client(manager).get(API, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in str(response.json())


def test_the_cursor_round_trips_and_refuses_what_it_did_not_make():
    for direction in (AFTER, BEFORE):
        token = cursor_encode(direction, Decimal("12345.67"), 42)
        cursor = cursor_decode(token)
        assert (cursor.direction, cursor.value, cursor.pk) == (direction, Decimal("12345.67"), 42)
    import base64

    def raw(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    for bad in ("n|NaN|1", "n|Infinity|1", "n|1|0", "n|1|-1", "x|1|1", "n|1", "n|1|1|1", "n||1"):
        with pytest.raises(CursorError):
            cursor_decode(raw(bad))
    with pytest.raises(CursorError):
        cursor_decode(raw(f"n|1|{2**63}"))


def _queue_ids(response) -> list[int]:
    return [case.pk for case in response.context["cases"]]


def test_the_queue_page_walks_forwards_and_back_through_ties(client, collector, book, settings):
    settings.COLLECTIONS_QUEUE_PAGE_SIZE = 2
    client.force_login(collector)
    response = client.get(QUEUE)
    assert response.context["page"].count == 7
    pages = [_queue_ids(response)]
    while response.context["page"].next_cursor:
        assert b'rel="next"' in response.content
        response = client.get(QUEUE, {"cursor": response.context["page"].next_cursor})
        assert response.status_code == 200
        assert response.context["page"].count is None
        pages.append(_queue_ids(response))
    assert [pk for page in pages for pk in page] == _order([c for c in book if c.status == "open"])
    assert b"First page" in response.content
    back = [pages[-1]]
    while response.context["page"].previous_cursor:
        response = client.get(QUEUE, {"cursor": response.context["page"].previous_cursor})
        back.append(_queue_ids(response))
    assert back[::-1] == pages


def test_the_queue_page_keeps_its_filters_across_pages(client, collector, book, settings):
    settings.COLLECTIONS_QUEUE_PAGE_SIZE = 1
    client.force_login(collector)
    for query, keep in (
        ({"bucket": "1-29"}, lambda c: c.bucket == "1-29"),
        ({"assignee": "me"}, lambda c: c.assignee_id == collector.pk),
        ({"product": "AUTO"}, lambda c: c.loan.product_code == "AUTO"),
    ):
        response = client.get(QUEUE, query)
        ids = _queue_ids(response)
        while response.context["page"].next_cursor:
            link = response.context["query"]
            for key, value in query.items():
                assert f"{key}={value}" in link
            response = client.get(QUEUE, query | {"cursor": response.context["page"].next_cursor})
            ids += _queue_ids(response)
        fresh = CollectionCase.objects.select_related("loan").filter(status="open")
        assert ids == _order([c for c in fresh if keep(c)]), query


def test_a_bad_cursor_on_the_queue_page_is_a_form_error(client, collector, book):
    client.force_login(collector)
    response = client.get(QUEUE, {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert "cursor" in response.context["form"].errors
    assert b"This page link is not valid" in response.content


def _count(client, path, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params).status_code == 200
    return len(queries)


def test_the_api_s_queries_grow_neither_with_the_page_size_nor_the_depth(
    staff_api_client, manager, book, django_assert_num_queries
):
    api = staff_api_client(manager)
    api.get(API)  # permissions cached
    first = _count(api, API, {"limit": "1"})
    with django_assert_num_queries(first):
        assert len(api.get(API, {"limit": "9"}).json()["results"]) == 9
    link = urlsplit(api.get(API, {"limit": "2"}).json()["next"])
    cursor = parse_qs(link.query)["cursor"][0]
    later = _count(api, API, {"limit": "1", "cursor": cursor})
    assert later == first - 1  # no COUNT after the first page
    with django_assert_num_queries(later):
        assert len(api.get(API, {"limit": "9", "cursor": cursor}).json()["results"]) == 9


def test_the_queue_page_s_queries_grow_neither_with_the_page_size_nor_the_depth(
    client, manager, book, settings, django_assert_num_queries
):
    client.force_login(manager)  # the manager's page also lists collectors per row
    client.get(QUEUE)  # sessions, permissions cached
    settings.COLLECTIONS_QUEUE_PAGE_SIZE = 1
    first = _count(client, QUEUE, {})
    settings.COLLECTIONS_QUEUE_PAGE_SIZE = 6
    with django_assert_num_queries(first):
        assert len(client.get(QUEUE).context["cases"]) == 6
    cursor = cursor_encode(AFTER, Decimal("20.00"), book[0].pk)
    later = _count(client, QUEUE, {"cursor": cursor})
    settings.COLLECTIONS_QUEUE_PAGE_SIZE = 1
    with django_assert_num_queries(later):
        assert len(client.get(QUEUE, {"cursor": cursor}).context["cases"]) == 1
