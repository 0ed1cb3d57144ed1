"""Two-factor sign-in for staff: TOTP devices (django-otp), enrolment and verification.

Whether a staff session still owes a code is decided once, at sign-in
(`session_two_factor_mark`), and kept in the session, so that a request costs no query:
`required` (a confirmed device, or LENDCORE_STAFF_2FA_REQUIRED), `enrol` (required but no
device yet), or nothing. A verified session carries django-otp's device id.
"""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.conf import settings
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from lendcore.core.audit import Action, audit_record

from .selectors import user_is_staff_member

SESSION_KEY = "lendcore_two_factor"
ENROL = "enrol"
REQUIRED = "required"


def two_factor_needed(user: Any) -> str | None:
    """ENROL, REQUIRED or None for a staff member signing in (None for everyone else)."""
    if not user_is_staff_member(user):
        return None
    if user_has_device(user, confirmed=True):
        return REQUIRED
    return ENROL if settings.LENDCORE_STAFF_2FA_REQUIRED else None


def session_two_factor_mark(sender: Any, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    """`user_logged_in` receiver: what this session owes before the staff UI opens."""
    if request is None or not hasattr(request, "session"):
        return
    needed = two_factor_needed(user)
    if needed and not request.session.get(DEVICE_ID_SESSION_KEY):
        request.session[SESSION_KEY] = needed
    else:
        request.session.pop(SESSION_KEY, None)


def session_owes_code(request: HttpRequest) -> str | None:
    session = getattr(request, "session", None)
    if session is None or session.get(DEVICE_ID_SESSION_KEY):
        return None
    return session.get(SESSION_KEY)


def enrolment_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed TOTP device, made on first ask (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def enrolment_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG (attributes only: the CSP allows it)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4)


def enrolment_secret(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrolment_confirm(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Confirm the device with a code from the app, and count this session as verified."""
    if not device.verify_token(code.strip()):
        audit_record(action=Action.TWO_FACTOR_FAILED, request=request, enrolment=True)
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    audit_record(action=Action.TWO_FACTOR_ENROLLED, request=request, obj=device)
    _verified(request, device)
    return True


def code_verify(request: HttpRequest, code: str) -> bool:
    """Check a code against the user's confirmed devices; on success the session is verified."""
    for device in devices_for_user(request.user, confirmed=True):
        if device.verify_token(code.strip()):
            _verified(request, device)
            return True
    audit_record(action=Action.TWO_FACTOR_FAILED, request=request)
    return False


def user_code_valid(user: Any, code: str) -> bool:
    """A code for `user` outside a session (the API token endpoint). No code is no attempt
    (a failed attempt makes the device wait before the next one)."""
    code = code.strip()
    if not code:
        return False
    return any(d.verify_token(code) for d in devices_for_user(user, confirmed=True))


def _verified(request: HttpRequest, device: TOTPDevice) -> None:
    otp_login(request, device)
    request.session.pop(SESSION_KEY, None)
