"""The base class of every API view: one place that makes each state-changing call
idempotent.

A view states how its unsafe methods (POST, PUT, PATCH, DELETE) take an `Idempotency-Key`:

- `Idempotency.AUTO` (the default): the key is optional; given, the call runs once per key and
  a retry answers the first response again with `Idempotent-Replayed: true` (the same key with
  another body: 422). This base class does it around the handler, so a new view has it without
  a line of its own, and the schema documents the header (`lendcore.api.schema`).
- `Idempotency.OWN`: the view handles the key itself (payments and disbursement store their
  answer in the same transaction as the money movement, `idempotent_response_atomic`).
- `Idempotency.NONE`, with `idempotency_exempt_reason`: a POST that changes nothing (a quote, a
  backtest), or whose answer must not be stored (a token's secret, a revealed SSN).

`tests/api/test_idempotency_everywhere.py` walks the URL configuration: a view with an unsafe
method that is not AUTO or OWN must say why.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Case, Model, When
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lendcore.api.idempotency import idempotent_response
from lendcore.core.idempotency import HEADER

UNSAFE_METHODS = ("post", "put", "patch", "delete")


class Idempotency(StrEnum):
    AUTO = "auto"
    OWN = "own"
    NONE = "none"


class ApiView(APIView):
    idempotency: Idempotency = Idempotency.AUTO
    idempotency_exempt_reason: str = ""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication, permissions and throttles (a refused call claims no key),
        the handler of an unsafe method runs through the key."""
        super().initial(request, *args, **kwargs)
        method = request.method.lower() if request.method else ""
        if self.idempotency is Idempotency.AUTO and method in UNSAFE_METHODS:
            handler = getattr(self, method, None)
            if handler is not None:
                # a view instance serves one request: the bound handler is replaced for it only
                setattr(self, method, self._once(handler))

    def _once(self, handler):
        def handle(request: Request, *args: Any, **kwargs: Any) -> Response:
            if request.headers.get(HEADER) is None:  # optional: no key, no deduplication
                return handler(request, *args, **kwargs)

            def execute() -> tuple[int, Any]:
                response = handler(request, *args, **kwargs)
                return response.status_code, response.data

            return idempotent_response(
                request,
                scope=f"api.{type(self).__name__}",
                payload={
                    "method": request.method,
                    "path": kwargs,
                    "body": request_body_fingerprint(request),
                },
                execute=execute,
                required=False,
            )

        return handle


def request_body_fingerprint(request: Request) -> Any:
    """The body as the key's fingerprint reads it: an uploaded file by its content's hash."""
    data = request.data
    if not hasattr(data, "lists"):  # JSON
        return data
    fields: dict[str, Any] = {name: values for name, values in data.lists()}
    for name, files in request.FILES.lists():
        fields[name] = [_file_digest(f) for f in files]
    return fields


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"sha256:{digest.hexdigest()}:{upload.name}"


def external_id_resolve(model: type[Model], request: Request, external_id: str) -> int:
    """The id of the object the caller named `external_id`: the caller's own first (ids are
    unique per integrator), else another's (staff reading an integrator's id); the detail
    view it is handed to then checks that the caller may see it (404 otherwise)."""
    owner = request.user.pk if request.user.is_authenticated else None
    pk = (
        model._default_manager.filter(external_id=external_id)
        .annotate(own=Case(When(external_id_owner_id=owner, then=0), default=1))
        .order_by("own", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise NotFound(f"No {model._meta.verbose_name} with this external_id.")
    return pk
