"""Staff sessions: they end after `LENDCORE_STAFF_IDLE_MINUTES` without a request, and open
only after a two-factor code when one is owed (`lendcore.accounts.two_factor`).

A staff login stamps its session (`session_staff_stamp`, on `user_logged_in`); only stamped
sessions are timed, so a borrower's request costs nothing more."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from .selectors import user_is_staff_member
from .two_factor import ENROL, session_owes_code

LAST_SEEN = "lendcore_staff_last_seen"
# The session is written at most this often just to move the clock (not on every request).
TOUCH_EVERY_SECONDS = 60


def session_staff_stamp(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """`user_logged_in` receiver: start the idle clock of a staff member's session."""
    if request is not None and hasattr(request, "session") and user_is_staff_member(user):
        request.session[LAST_SEEN] = int(time.time())


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        last_seen = session.get(LAST_SEEN) if session is not None else None
        if last_seen is not None:
            now = int(time.time())
            if now - last_seen > settings.LENDCORE_STAFF_IDLE_MINUTES * 60:
                logout(request)
                return self._signed_out(request)
            if now - last_seen >= TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)

    def _signed_out(self, request: HttpRequest) -> HttpResponse:
        message = "You were signed out after a period without activity."
        if request.path.startswith("/api/"):
            body = {"message": message, "code": "session_expired", "extra": {}}
            return JsonResponse(body, status=401)
        messages.info(request, message)
        login = reverse(settings.LOGIN_URL)
        return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")


# Paths a session that owes a code may still reach: the code pages themselves and sign-out.
TWO_FACTOR_OPEN = ("/accounts/two-factor/", "/accounts/logout/", "/static/")


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        owed = session_owes_code(request)
        if owed and not request.path.startswith(TWO_FACTOR_OPEN):
            if request.path.startswith("/api/"):
                body = {
                    "message": "Enter your two-factor code in the staff UI first.",
                    "code": "two_factor_required",
                    "extra": {},
                }
                return JsonResponse(body, status=403)
            name = "accounts:two-factor-setup" if owed == ENROL else "accounts:two-factor-verify"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(name)}?{query}")
        return self.get_response(request)
