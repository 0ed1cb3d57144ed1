"""A rate limit per API token (429 with Retry-After, through DRF's throttling)."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """`TOKEN_THROTTLE_RATE` requests per token; sessions and anonymous calls are not counted
    here (sign-in and quotes have their own scopes)."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
