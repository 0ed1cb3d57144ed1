"""The client's address, the same for the lockout, the throttles and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, unless `LENDCORE_TRUSTED_PROXY_COUNT` proxies stand in front: then the
    address the outermost trusted proxy saw, counted from the right of X-Forwarded-For (what a
    client writes to the left of it is ignored, so a forged header changes nothing)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.LENDCORE_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return hops[-proxies]
