"""The subscriptions API: admins only, the secret answered once, bad input named by field
(unknown event types, non-http URLs, private addresses in production)."""

from __future__ import annotations

import pytest

from lendcore.webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-subscriptions/"


def test_only_the_admin_role_manages_subscriptions(
    admin_user, servicing_agent, collector, borrower, staff_api_client
):
    for user in (servicing_agent, collector, borrower.user):
        client = staff_api_client(user)
        assert client.get(URL).status_code == 403
        body = {"url": "https://example.com/h", "event_types": ["payment.posted"]}
        assert client.post(URL, body, format="json").status_code == 403
        assert client.get("/api/v1/webhook-deliveries/").status_code == 403
    assert not WebhookSubscription.objects.exists()
    assert staff_api_client(admin_user).get(URL).status_code == 200


def test_create_read_change_rotate_delete(admin_user, staff_api_client):
    client = staff_api_client(admin_user)
    created = client.post(
        URL,
        {"url": "http://127.0.0.1:8999/h", "event_types": ["payment.posted", "loan.paid_off"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="s-1",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    sub_id = body["id"]
    # the secret's answer is never stored: the key does not replay it
    assert WebhookSubscription.objects.count() == 1

    read = client.get(f"{URL}{sub_id}/").json()
    assert "secret" not in read
    assert read["event_types"] == ["payment.posted", "loan.paid_off"]

    changed = client.patch(
        f"{URL}{sub_id}/", {"is_active": False}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert (changed.status_code, changed.json()["is_active"]) == (200, False)
    again = client.patch(
        f"{URL}{sub_id}/", {"is_active": False}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert again["Idempotent-Replayed"] == "true"

    rotated = client.post(f"{URL}{sub_id}/rotate-secret/", {"overlap_hours": 2}, format="json")
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["secret"] not in (body["secret"], "")
    assert rotated.json()["previous_secret_expires_at"] is not None

    assert client.delete(f"{URL}{sub_id}/").status_code == 204
    assert client.get(f"{URL}{sub_id}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/h", "event_types": ["payment.posted"]}, "url"),
        ({"url": "https://example.com/h", "event_types": ["loan.exploded"]}, "event_types"),
        ({"url": "https://example.com/h", "event_types": []}, "event_types"),
        (
            {"url": "https://example.com/h", "event_types": ["fee.assessed"], "secret": "abc"},
            "secret",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_user, staff_api_client, body, field):
    answer = staff_api_client(admin_user).post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in str(answer.json())
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/h",
        "http://localhost/h",
        "https://10.1.2.3/h",
        "http://192.168.0.10/h",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/h",
        "http://0.0.0.0/h",
        "http://user:pw@example.com/h",
    ],
)
def test_private_addresses_are_refused_in_production(admin_user, staff_api_client, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    answer = staff_api_client(admin_user).post(
        URL, {"url": url, "event_types": ["payment.posted"]}, format="json"
    )
    assert answer.status_code == 400, answer.content
    assert "url" in answer.json()["extra"]["fields"]
    assert not WebhookSubscription.objects.exists()


def test_the_staff_page_shows_deliveries_to_admins_only(admin_user, servicing_agent, client):
    client.force_login(servicing_agent)
    assert client.get("/staff/webhooks/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/staff/webhooks/").status_code == 200
