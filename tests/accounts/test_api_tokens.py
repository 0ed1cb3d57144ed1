"""API tokens expire, can be revoked, end with a password change, carry a scope and a rate
limit, and are stored only as a digest (issue 10, point 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from lendcore.accounts.models import ApiToken
from lendcore.accounts.services import api_token_issue
from lendcore.accounts.tokens import key_digest

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_only_the_digest_of_a_key_is_stored(servicing_agent):
    issued = api_token_issue(user=servicing_agent)
    row = ApiToken.objects.values().get(pk=issued.token.pk)
    assert row["key_digest"] == key_digest(issued.key)
    assert issued.key not in [str(value) for value in row.values()]


def test_the_token_endpoint_takes_a_scope_a_lifetime_and_a_name(api_client, servicing_agent):
    response = api_client.post(
        TOKEN_URL,
        {
            "username": servicing_agent.username,
            "password": "lendcore-demo",
            "scope": "read_only",
            "expires_in_days": 7,
            "name": "nightly report",
        },
        format="json",
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=servicing_agent)
    assert (token.scope, token.name) == ("read_only", "nightly report")
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scope": "everything"}, "scope"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 366}, "expires_in_days"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_a_bad_token_request_names_the_field_and_issues_nothing(
    api_client, servicing_agent, change, field
):
    body = {"username": servicing_agent.username, "password": "lendcore-demo", **change}
    response = api_client.post(TOKEN_URL, body, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {field}
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused(servicing_agent):
    issued = api_token_issue(user=servicing_agent)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now())
    response = _client(issued.key).get("/api/v1/loans/")
    assert response.status_code == 403  # SessionAuthentication comes first: no WWW-Authenticate
    assert response.json()["message"] == "Token expired."


def test_a_revoked_token_is_refused(servicing_agent):
    issued = api_token_issue(user=servicing_agent)
    client = _client(issued.key)
    assert client.get("/api/v1/loans/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    response = client.get("/api/v1/loans/")
    assert response.status_code == 403  # SessionAuthentication comes first: no WWW-Authenticate
    assert response.json()["message"] == "Token revoked."
    # another token of the same user still works
    assert (
        _client(api_token_issue(user=servicing_agent).key).get("/api/v1/loans/").status_code == 200
    )


def test_a_password_change_ends_every_token(servicing_agent):
    keys = [api_token_issue(user=servicing_agent).key for _ in range(2)]
    servicing_agent.set_password("a-new-long-passphrase-1")
    servicing_agent.save()
    for key in keys:
        response = _client(key).get("/api/v1/loans/")
        assert response.status_code == 403  # SessionAuthentication comes first: no WWW-Authenticate
        assert response.json()["message"] == "Token ended by a password change."


def test_an_unknown_key_is_refused(servicing_agent):
    assert _client("not-a-key").get("/api/v1/loans/").status_code == 403


def test_a_read_only_token_reads_but_never_writes(servicing_agent):
    client = _client(api_token_issue(user=servicing_agent, scope="read_only").key)
    assert client.get("/api/v1/loans/").status_code == 200
    response = client.put("/api/v1/business-date/", {"business_date": "2026-01-01"}, format="json")
    assert response.status_code == 403
    assert "read_only" in response.json()["message"]


def test_a_servicing_token_does_not_reach_origination(admin_user):
    client = _client(api_token_issue(user=admin_user, scope="servicing").key)
    assert client.get("/api/v1/loans/").status_code == 200
    assert client.get("/api/v1/applications/").status_code == 403


def test_an_origination_token_does_not_reach_servicing(admin_user):
    client = _client(api_token_issue(user=admin_user, scope="origination").key)
    assert client.get("/api/v1/applications/").status_code == 200
    assert client.get("/api/v1/loans/").status_code == 403


def test_a_scope_never_widens_the_role(loan_officer):
    # a loan officer's admin-scope token still cannot set the business date
    client = _client(api_token_issue(user=loan_officer, scope="admin").key)
    response = client.put("/api/v1/business-date/", {"business_date": "2026-01-01"}, format="json")
    assert response.status_code == 403


def test_each_token_has_its_own_rate_limit_answering_429_with_retry_after(
    servicing_agent, monkeypatch
):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "token", "3/minute")
    first = _client(api_token_issue(user=servicing_agent).key)
    second = _client(api_token_issue(user=servicing_agent).key)
    answers = [first.get("/api/v1/loans/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = first.get("/api/v1/loans/")
    assert int(limited["Retry-After"]) > 0
    assert second.get("/api/v1/loans/").status_code == 200


def test_last_used_moves_at_most_once_a_minute(servicing_agent, django_assert_num_queries):
    issued = api_token_issue(user=servicing_agent)
    client = _client(issued.key)
    client.get("/api/v1/loans/")
    issued.token.refresh_from_db()
    first_seen = issued.token.last_used_at
    client.get("/api/v1/loans/")
    issued.token.refresh_from_db()
    assert issued.token.last_used_at == first_seen  # not a write per request

    ApiToken.objects.filter(pk=issued.token.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    client.get("/api/v1/loans/")
    issued.token.refresh_from_db()
    assert timezone.now() - issued.token.last_used_at < timedelta(seconds=30)
