"""One DRF exception handler: every error body is `{"message", "code", "extra"}`.

Validation errors list every bad field under `extra.fields` as `{field: [messages]}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from lendcore.errors import ApplicationError


def _flatten(detail: Any) -> Any:
    """ErrorDetail trees -> plain strings, keeping nesting (lists of items, nested objects)."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _fields_body(fields: dict[str, Any]) -> dict[str, Any]:
    fields = _flatten(fields)
    non_field = fields.pop("non_field_errors", None)
    if non_field:
        fields["non_field_errors"] = non_field
    names = ", ".join(sorted(k for k in fields if k != "non_field_errors"))
    message = f"Invalid input: {names}." if names else "Invalid input."
    if non_field and not names:
        message = str(non_field[0])
    return {"message": message, "code": "invalid", "extra": {"fields": fields}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = {"message": exc.message, "code": exc.code, "extra": exc.extra}
        return Response(body, status=exc.http_status)

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it surface as a 500 and be logged

    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = _fields_body(fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request failed."
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        extra: dict[str, Any] = {}
        if isinstance(code, (dict, list)):
            extra["detail"] = _flatten(detail)
            code = "error"
        wait = getattr(exc, "wait", None)  # set on Throttled by DRF, not in its stubs
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            extra["retry_after_seconds"] = int(wait)
        response.data = {"message": message, "code": code, "extra": extra}
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL no route matches: the API's error body under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "code": "not_found", "extra": {}}, status=404)
    return defaults.page_not_found(request, exception)
