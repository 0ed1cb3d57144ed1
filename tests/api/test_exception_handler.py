"""The one error body: {"message", "code", "extra"} for every kind of failure."""

import pytest
from django.http import Http404
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from lendcore.errors import InvalidTransition, NotFound, UpstreamUnavailable, ValidationFailed

factory = APIRequestFactory()


class _Input(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    name = serializers.CharField()


def _view(raise_exc=None):
    class _Probe(APIView):
        permission_classes = [AllowAny]

        def post(self, request):
            if raise_exc is not None:
                raise raise_exc
            _Input(data=request.data).is_valid(raise_exception=True)

    return _Probe.as_view()


def _call(exc=None, data=None):
    return _view(exc)(factory.post("/probe/", data or {}, format="json"))


def test_validation_errors_name_every_field():
    response = _call(data={"amount": "1.234"})
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["extra"]["fields"]) == {"amount", "name"}
    assert "amount" in response.data["message"]


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ValidationFailed.for_fields({"term": ["Too long."]}), 400, "invalid"),
        (NotFound("No such loan."), 404, "not_found"),
        (InvalidTransition("Cannot approve a declined application."), 409, "invalid_transition"),
        (UpstreamUnavailable("Bureau down."), 502, "upstream_unavailable"),
        (Http404(), 404, "not_found"),
    ],
)
def test_application_errors_render_status_and_code(exc, status, code):
    response = _call(exc)
    assert response.status_code == status
    assert response.data["code"] == code
    assert set(response.data) == {"message", "code", "extra"}


def test_unauthenticated_is_403_with_body(db, api_client):
    class _Protected(APIView):
        def get(self, request):
            return None

    response = _Protected.as_view()(factory.get("/p/"))
    assert response.status_code == 403  # session authentication first: no 401 challenge
    assert response.data["code"] == "not_authenticated"
