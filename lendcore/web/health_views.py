"""Probes for load balancers and orchestrators: unauthenticated JSON, never cached.

`/healthz` says the process answers (liveness: no database, so a slow database does not get
healthy processes restarted); `/readyz` says it can serve (readiness: database, broker and
schema), 503 naming each failed check otherwise.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from lendcore.core.health import readiness


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    outcome = readiness()
    failed = {name: reason for name, reason in outcome.items() if reason}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: reason or "ok" for name, reason in outcome.items()},
        "failed": sorted(failed),
    }
    return JsonResponse(body, status=503 if failed else 200)
