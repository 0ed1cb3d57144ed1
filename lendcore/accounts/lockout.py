"""What a locked-out login attempt answers (django-axes' AXES_LOCKOUT_CALLABLE): 429 with
Retry-After, as JSON in the API's error shape on /api/, as a page elsewhere."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

MESSAGE = "Too many failed sign-in attempts. Try again later."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"message": MESSAGE, "code": "locked_out", "extra": {"retry_after_seconds": seconds}},
            status=429,
        )
    else:
        minutes = max(1, round(seconds / 60)) if seconds else None
        response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
