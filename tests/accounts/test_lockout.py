"""Lockout on every login path, client addresses that cannot be forged, staff idle timeout
(issue 10, point 4 and the session rule)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.throttling import ScopedRateThrottle

from lendcore.accounts import middleware
from lendcore.core.client_ip import client_ip

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
LIMIT = 5


def _fail(client, path, username, times, **extra):
    """`times` wrong passwords; the one that reaches the limit is itself answered 429."""
    for n in range(1, times + 1):
        response = client.post(path, {"username": username, "password": WRONG}, **extra)
        expected = 429 if n >= LIMIT else (400 if path.startswith("/api/") else 200)
        assert response.status_code == expected


def test_the_portal_login_locks_after_repeated_failures(client, borrower, password):
    # Given five wrong passwords for one account from one address (the fifth answers 429)
    _fail(client, "/accounts/login/", "carol@example.com", LIMIT)

    # When the right one comes next
    response = client.post(
        "/accounts/login/", {"username": "carol@example.com", "password": password}
    )

    # Then it is refused for a while, and nobody is signed in
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Sign-in locked" in response.content
    assert client.get("/my-loans/").status_code == 302


def test_the_admin_login_locks_too(client, admin_user, password):
    _fail(client, "/admin/login/", "t_admin", LIMIT)
    response = client.post("/admin/login/", {"username": "t_admin", "password": password})
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_the_token_endpoint_locks_with_a_json_429(api_client, loan_officer, password):
    _fail(api_client, "/api/v1/auth/token/", "t_loan_officer", LIMIT, format="json")
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "t_loan_officer", "password": password},
        format="json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert int(response["Retry-After"]) == response.json()["extra"]["retry_after_seconds"]
    assert "token" not in response.json()


def test_fewer_failures_then_the_right_password_signs_in_and_resets(client, borrower, password):
    _fail(client, "/accounts/login/", "carol@example.com", LIMIT - 1)
    ok = client.post("/accounts/login/", {"username": "carol@example.com", "password": password})
    assert ok.status_code == 302
    client.logout()
    # the success reset the count: four more failures still do not lock
    _fail(client, "/accounts/login/", "carol@example.com", LIMIT - 1)
    again = client.post("/accounts/login/", {"username": "carol@example.com", "password": password})
    assert again.status_code == 302


def test_the_lock_is_per_address_and_a_forged_header_does_not_move_it(client, borrower, password):
    # Given an attacker who locked the account from 203.0.113.9, writing a new
    # X-Forwarded-For on every try
    for n in range(LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "carol@example.com", "password": WRONG},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    forged = client.post(
        "/accounts/login/",
        {"username": "carol@example.com", "password": password},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert forged.status_code == 429

    # Then the borrower, from her own address, still signs in
    own = client.post(
        "/accounts/login/",
        {"username": "carol@example.com", "password": password},
        REMOTE_ADDR="192.0.2.10",
    )
    assert own.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no proxy trusted: the header is ignored
        (1, "198.51.100.1", "198.51.100.1"),  # one proxy: the address it saw
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote is ignored
        (2, "6.6.6.6, 198.51.100.1, 10.1.1.1", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2"),  # fewer hops than proxies: not through them
    ],
)
def test_the_client_address_counts_trusted_proxies_from_the_right(rf, proxies, forwarded, expected):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(LENDCORE_TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


def test_the_token_throttle_is_not_dodged_by_a_new_forwarded_for(
    api_client, loan_officer, monkeypatch
):
    # Given the token endpoint allows three tries a minute per client
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth", "3/minute")
    cache.clear()
    answers = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": f"nobody{n}", "password": WRONG},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(5)
    ]
    # Then the fourth is throttled although each claimed another address
    assert answers[:3] == [400, 400, 400]
    assert answers[3:] == [429, 429]
    cache.clear()


def _staff_login(client, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302


def test_a_staff_session_ends_after_the_idle_minutes(
    client, servicing_agent, password, monkeypatch, settings
):
    settings.LENDCORE_STAFF_IDLE_MINUTES = 30
    now = [1_800_000_000]
    monkeypatch.setattr(middleware.time, "time", lambda: now[0])
    _staff_login(client, servicing_agent.username, password)
    assert client.get("/staff/").status_code == 200

    # 29 minutes later the session is alive, and the clock restarts
    now[0] += 29 * 60
    assert client.get("/staff/").status_code == 200
    now[0] += 29 * 60
    assert client.get("/staff/").status_code == 200

    # 31 idle minutes later it is over: sign in again, and come back here
    now[0] += 31 * 60
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fstaff%2F"
    assert client.get("/staff/").status_code == 302


def test_a_borrowers_session_has_no_idle_clock(client, borrower, password, monkeypatch):
    now = [1_800_000_000]
    monkeypatch.setattr(middleware.time, "time", lambda: now[0])
    _staff_login(client, "carol@example.com", password)
    now[0] += 5 * 60 * 60
    assert client.get("/my-loans/").status_code == 200
