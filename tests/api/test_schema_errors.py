"""The OpenAPI schema documents every error an operation can answer, with the one error body,
and an unknown /api/ URL answers that body too (not an HTML page)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _responses(schema, path, method):
    return schema["paths"][path][method]["responses"]


def test_the_error_body_is_a_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"message", "code", "extra"}


def test_a_state_changing_operation_on_an_object_documents_each_error(schema):
    responses = _responses(schema, "/api/v1/loans/{loan_id}/payments/", "post")
    assert {"400", "403", "404", "409", "429"} <= set(responses)
    assert responses["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_a_read_without_an_object_documents_no_404_or_409(schema):
    responses = _responses(schema, "/api/v1/loans/", "get")
    assert "404" not in responses
    assert "409" not in responses
    assert "403" in responses


def test_an_operation_without_authentication_documents_no_403(schema):
    # anyone may quote too, but a bad token there is a 403 (tests/api/test_schema_truth.py)
    assert "403" not in _responses(schema, "/api/v1/auth/token/", "post")


def test_401_only_where_the_token_is_the_only_way_in(schema):
    assert "401" in _responses(schema, "/api/v1/auth/token/revoke/", "post")
    assert "401" not in _responses(schema, "/api/v1/loans/", "get")


def test_an_unknown_api_url_answers_the_error_body(client):
    response = client.get("/api/v1/applicants/9223372036854775808/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "extra": {}}


def test_an_unknown_page_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
