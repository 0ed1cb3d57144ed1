"""Two-factor sign-in for staff (TOTP, django-otp): required under production settings,
enrolled from the staff UI, asked at every staff sign-in once enrolled (issue 10)."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from lendcore.accounts.models import ApiToken

pytestmark = pytest.mark.django_db

PASSWORD = "lendcore-demo"


def _sign_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def _after_the_wait(device: TOTPDevice) -> None:
    """A failed code makes the device refuse codes for a second or more (django-otp's
    throttle); the test does not sleep it out."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


@pytest.fixture
def required(settings):
    settings.LENDCORE_STAFF_2FA_REQUIRED = True


def test_a_staff_member_without_a_device_must_enrol_before_any_staff_page(
    client, servicing_agent, required
):
    _sign_in(client, servicing_agent.username)
    response = client.get("/staff/loans/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/setup/?next=%2Fstaff%2Floans%2F"
    assert client.get("/admin/").status_code == 302
    assert client.get("/accounts/tokens/").status_code == 302
    api = client.get("/api/v1/loans/")
    assert api.status_code == 403
    assert api.json()["code"] == "two_factor_required"

    # the setup page shows a QR code and the key
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=servicing_agent, confirmed=False)

    # a wrong code is a form error and confirms nothing
    wrong = client.post("/accounts/two-factor/setup/?next=/staff/loans/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "code" in wrong.context["form"].errors
    device.refresh_from_db()
    assert not device.confirmed
    _after_the_wait(device)

    # the right code confirms the device, opens the session and goes where it was going
    ok = client.post("/accounts/two-factor/setup/?next=/staff/loans/", {"code": _code(device)})
    assert ok.status_code == 302
    assert ok["Location"] == "/staff/loans/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/staff/loans/").status_code == 200


def test_an_enrolled_staff_member_enters_a_code_at_every_sign_in(client, servicing_agent):
    # Given an enrolled device (2FA not required by settings: enrolment alone asks for it)
    device = TOTPDevice.objects.create(user=servicing_agent, name="app", confirmed=True)
    _sign_in(client, servicing_agent.username)
    response = client.get("/staff/")
    assert response["Location"] == "/accounts/two-factor/?next=%2Fstaff%2F"

    bad = client.post("/accounts/two-factor/?next=/staff/", {"code": "123456"})
    assert "code" in bad.context["form"].errors
    assert client.get("/staff/").status_code == 302
    _after_the_wait(device)

    good = client.post("/accounts/two-factor/?next=/staff/", {"code": _code(device)})
    assert good["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_next_never_leaves_the_site(client, servicing_agent):
    device = TOTPDevice.objects.create(user=servicing_agent, name="app", confirmed=True)
    _sign_in(client, servicing_agent.username)
    response = client.post(
        "/accounts/two-factor/?next=https://evil.example/", {"code": _code(device)}
    )
    assert response["Location"] == "/after-login/"


def test_borrowers_are_never_asked(client, borrower, required):
    _sign_in(client, "carol@example.com")
    assert client.get("/my-loans/").status_code == 200


def test_without_the_setting_and_a_device_staff_sign_in_with_a_password(client, servicing_agent):
    _sign_in(client, servicing_agent.username)
    assert client.get("/staff/").status_code == 200


def test_a_token_needs_the_code_of_an_enrolled_staff_member(api_client, servicing_agent):
    device = TOTPDevice.objects.create(user=servicing_agent, name="app", confirmed=True)
    body = {"username": servicing_agent.username, "password": PASSWORD}
    refused = api_client.post("/api/v1/auth/token/", body, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["extra"]["fields"]) == {"otp"}
    ok = api_client.post("/api/v1/auth/token/", {**body, "otp": _code(device)}, format="json")
    assert ok.status_code == 200
    assert ApiToken.objects.filter(user=servicing_agent).count() == 1


def test_a_token_waits_for_enrolment_when_it_is_required(api_client, servicing_agent, required):
    body = {"username": servicing_agent.username, "password": PASSWORD}
    response = api_client.post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 409
    assert not ApiToken.objects.exists()


def test_production_requires_two_factor():
    from lendcore.settings import base

    assert base.LENDCORE_STAFF_2FA_REQUIRED is False  # the local demo signs in with a password
    source = (base.BASE_DIR / "lendcore" / "settings" / "production.py").read_text()
    assert 'env.bool("LENDCORE_STAFF_2FA_REQUIRED", default=True)' in source
