"""Every state-changing API call takes an Idempotency-Key (issue 12).

The first test walks the URL configuration, so a new endpoint without idempotency fails here;
the others show the generic mechanism (`lendcore.api.views.ApiView`) on real endpoints: a replay
answers the first response with `Idempotent-Replayed: true` and changes nothing, the same key
with another body is a 422, and a key past its lifetime (24 h) is a new request and is purged.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from lendcore.api.views import UNSAFE_METHODS, ApiView, Idempotency
from lendcore.core.idempotency import keys_expired_delete
from lendcore.core.models import IdempotencyRecord
from lendcore.core.tasks import idempotency_keys_purge
from origination.models import Applicant
from servicing.models import Fee
from tests.origination.test_api_flow import APPLICANT
from tests.servicing.conftest import business_date as business_date  # a fixture
from tests.servicing.factories import LoanFactory


def _api_views(resolver: URLResolver | None = None, prefix: str = ""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            view_class = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            if view_class is not None:
                yield route, view_class


def test_every_state_changing_api_view_is_idempotent_or_says_why():
    views = list(_api_views())
    assert len(views) > 40  # the walk found the API
    missing = []
    for route, view_class in views:
        unsafe = [m for m in UNSAFE_METHODS if hasattr(view_class, m)]
        if not unsafe:
            continue
        if not issubclass(view_class, ApiView):
            missing.append(f"{route} {view_class.__name__}: not an ApiView")
        elif (
            view_class.idempotency is Idempotency.NONE and not view_class.idempotency_exempt_reason
        ):
            missing.append(f"{route} {view_class.__name__}: NONE without a reason")
    assert not missing, "\n".join(missing)


def test_the_schema_documents_the_key_on_every_idempotent_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    views = {route: cls for route, cls in _api_views()}
    undocumented = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in UNSAFE_METHODS:
                continue
            view_class = next(
                (cls for route, cls in views.items() if _same_route(route, path)), None
            )
            if view_class is None or view_class.idempotency is Idempotency.NONE:
                continue
            names = [p["name"] for p in operation.get("parameters", [])]
            if "Idempotency-Key" not in names or "422" not in operation["responses"]:
                undocumented.append(f"{method.upper()} {path}")
    assert not undocumented, undocumented


def _same_route(route: str, path: str) -> bool:
    """`api/v1/loans/<id:loan_id>/fees/` is `/api/v1/loans/{loan_id}/fees/`."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) == path


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.mark.django_db
def test_a_replayed_create_answers_the_first_response_and_creates_nothing(borrower):
    client = _client(borrower.user)
    first = client.post("/api/v1/applicants/", APPLICANT, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    again = client.post("/api/v1/applicants/", APPLICANT, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Applicant.objects.count() == 1

    changed = dict(APPLICANT, first_name="Caroline")
    reused = client.post("/api/v1/applicants/", changed, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    assert reused.status_code == 422
    assert "Idempotency-Key" in reused.json()["extra"]["fields"]
    assert Applicant.objects.count() == 1

    # without a key the call is not deduplicated (the header is optional here)
    client.post("/api/v1/applicants/", APPLICANT, format="json")
    assert Applicant.objects.count() == 2


@pytest.mark.django_db
def test_a_replayed_fee_is_assessed_once(servicing_agent, borrower, business_date):
    loan = LoanFactory(borrower=borrower)
    client = _client(servicing_agent)
    body = {"amount": "25.00", "reason": "returned cheque"}
    url = f"/api/v1/loans/{loan.pk}/fees/"
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="fee-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="fee-1")
    assert first.status_code == 201, first.json()
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Fee.objects.filter(loan=loan, amount=Decimal("25.00")).count() == 1
    # the same key on another loan is another request: refused, not run
    other = LoanFactory(borrower=borrower)
    response = client.post(
        f"/api/v1/loans/{other.pk}/fees/", body, format="json", HTTP_IDEMPOTENCY_KEY="fee-1"
    )
    assert response.status_code == 422
    assert not Fee.objects.filter(loan=other).exists()


@pytest.mark.django_db
def test_a_refusal_is_the_stored_answer(borrower):
    """A refusal is an answer like any other (`idempotent_execute`): the retry of a 400 gets
    the same 400, and corrected input goes with a new key."""
    client = _client(borrower.user)
    bad = dict(APPLICANT, ssn="12345")
    response = client.post("/api/v1/applicants/", bad, format="json", HTTP_IDEMPOTENCY_KEY="b1")
    assert response.status_code == 400
    again = client.post("/api/v1/applicants/", bad, format="json", HTTP_IDEMPOTENCY_KEY="b1")
    assert again.status_code == 400
    assert again.json() == response.json()
    fixed = client.post("/api/v1/applicants/", APPLICANT, format="json", HTTP_IDEMPOTENCY_KEY="b2")
    assert fixed.status_code == 201
    assert Applicant.objects.count() == 1


@pytest.mark.django_db
def test_a_key_past_its_lifetime_is_a_new_request(borrower, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    client = _client(borrower.user)
    client.post("/api/v1/applicants/", APPLICANT, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    again = client.post("/api/v1/applicants/", APPLICANT, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Applicant.objects.count() == 2


@pytest.mark.django_db
def test_the_purge_deletes_only_expired_keys(borrower, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    client = _client(borrower.user)
    for key in ("k-old", "k-new"):
        client.post("/api/v1/applicants/", APPLICANT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyRecord.objects.filter(key="k-old").update(
        created_at=timezone.now() - timedelta(hours=24, minutes=1)
    )
    assert idempotency_keys_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-new"]
    assert keys_expired_delete() == 0


@pytest.mark.django_db
def test_the_purge_is_scheduled_hourly():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="lendcore.core.tasks.idempotency_keys_purge")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "hours")
