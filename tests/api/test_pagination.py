"""`?limit=&offset=` on API lists: whole numbers within the bounds the schema shows; anything
else is a 400 naming the parameter, so no number a client types reaches the database as a
LIMIT or OFFSET too large for it (a 500 once) and the API is exactly as strict as its schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from lendcore.api.pagination import MAX_LIMIT, MAX_OFFSET, BoundedLimitOffsetPagination
from origination.demo import personal_product_ensure
from origination.models import Application
from origination.selectors import product_current_version
from tests.origination.factories import ApplicantFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/applications/"
HUGE = "99999999999999999999"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _applications(count: int, acting_user) -> None:
    product = personal_product_ensure()
    version = product_current_version(product)
    applicant = ApplicantFactory(acting_user=acting_user)
    Application.objects.bulk_create(
        Application(
            applicant=applicant,
            product=product,
            product_version=version,
            amount=Decimal("10000.00"),
            term=36,
            frequency="monthly",
            channel=Application.Channel.STAFF,
        )
        for _ in range(count)
    )


def test_the_largest_limit_answers_500_rows_and_a_link_to_the_rest(loan_officer):
    # Given more applications than the largest page
    _applications(MAX_LIMIT + 2, loan_officer)
    # When a list asks for the largest limit
    response = client_for(loan_officer).get(URL, {"limit": str(MAX_LIMIT)})
    # Then it answers the first 500 and a link to the rest
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == MAX_LIMIT + 2
    assert len(body["results"]) == MAX_LIMIT
    assert "limit=500" in body["next"]
    assert "offset=500" in body["next"]


def test_no_limit_answers_the_page_size(loan_officer):
    # Given more applications than a page
    _applications(60, loan_officer)
    # When listed without a limit
    response = client_for(loan_officer).get(URL)
    # Then the page holds PAGE_SIZE (50) rows
    assert response.status_code == 200
    assert len(response.json()["results"]) == 50


def test_the_largest_offset_answers_an_empty_page(loan_officer):
    # Given a few applications
    _applications(3, loan_officer)
    # When a list asks for an offset far past the end
    response = client_for(loan_officer).get(URL, {"offset": str(MAX_OFFSET)})
    # Then it is an empty page that still counts them
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 3
    assert response.json()["results"] == []
    assert response.json()["next"] is None


@pytest.mark.parametrize(
    ("query", "limit", "offset"),
    [
        ({}, 50, 0),
        ({"limit": "10", "offset": "20"}, 10, 20),
        ({"limit": "1", "offset": "0"}, 1, 0),
        ({"limit": str(MAX_LIMIT), "offset": str(MAX_OFFSET)}, MAX_LIMIT, MAX_OFFSET),
    ],
)
def test_limit_and_offset_within_their_bounds_are_read(query, limit, offset):
    # Given a request with these query parameters
    drf_request = Request(APIRequestFactory().get("/", query))
    paginator = BoundedLimitOffsetPagination()
    # When the paginator reads them, then they are what was asked (or the defaults)
    assert paginator.get_limit(drf_request) == limit
    assert paginator.get_offset(drf_request) == offset


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", str(MAX_LIMIT + 1)),
        ("limit", HUGE),
        ("limit", "abc"),
        ("limit", "-8.8e-06"),
        ("limit", "²"),  # a digit to str.isdigit, not a number to a client
        ("limit", ""),
        ("offset", "-1"),
        ("offset", "1.5"),
        ("offset", "٣"),
        ("offset", "9" * 5000),
        ("offset", str(MAX_OFFSET + 1)),
    ],
)
def test_a_limit_or_offset_outside_the_schema_is_a_400_naming_it(loan_officer, name, value):
    # When a list is asked for a page the schema does not allow
    response = client_for(loan_officer).get(URL, {name: value})
    # Then it is refused, naming the parameter, as the schema's bounds say
    assert response.status_code == 400, response.content
    assert name in response.json()["extra"]["fields"]


def test_a_repeated_limit_is_a_400(loan_officer):
    response = client_for(loan_officer).get(f"{URL}?limit=5&limit=6")
    assert response.status_code == 400
    assert "limit" in response.json()["extra"]["fields"]


def test_the_schema_shows_the_limit_maximum(loan_officer):
    # When the OpenAPI schema is fetched
    response = client_for(loan_officer).get("/api/schema/", {"format": "json"})
    # Then the applications list documents limit up to 500 and a bounded offset
    assert response.status_code == 200
    parameters = {
        p["name"]: p["schema"]
        for p in response.json()["paths"]["/api/v1/applications/"]["get"]["parameters"]
    }
    assert parameters["limit"]["maximum"] == MAX_LIMIT
    assert parameters["limit"]["default"] == 50
    assert parameters["offset"]["maximum"] == MAX_OFFSET
