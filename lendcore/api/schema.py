"""OpenAPI generation tweaks: component names per view, and every error an operation can
answer documented with the one error body (`lendcore.api.exceptions`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import permissions, serializers

from lendcore.api.idempotency import IDEMPOTENCY_KEY_OPTIONAL
from lendcore.api.views import Idempotency
from lendcore.core.idempotency import HEADER as IDEMPOTENCY_HEADER


class ErrorSerializer(serializers.Serializer):
    """The body of every error: what went wrong, a stable code, and details."""

    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField(
        help_text="Details: `fields` ({field: [messages]}) on 400, `retry_after_seconds` on 429."
    )


_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_ERRORS = {
    "400": "Invalid input: `extra.fields` names each bad field.",
    "401": "No credentials, or a token that is unknown, revoked or expired.",
    "403": (
        "Not signed in (session), a token that is unknown, revoked or expired (where no 401 is "
        "listed), or not allowed for this user or token scope."
    ),
    "404": "No such object, or not one this user may see.",
    "409": "Not allowed in the object's current state, or the same Idempotency-Key in flight.",
    "422": "This Idempotency-Key was already used with another request body.",
    "429": "Too many requests (throttled or locked out): see `Retry-After`.",
}


class AutoSchema(SpectacularAutoSchema):
    """Names a serializer nested in a view after the view: `PaymentPostApiInput`.

    Every APIView declares its own `InputSerializer`/`OutputSerializer` (STYLE.md); without
    this they would all collide on the component names "Input" and "Output".
    """

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." in qualname:
            return qualname.replace(".", "").replace("Serializer", "")
        return super().get_serializer_name(serializer, direction)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """Also shows a list's bounds: drf-spectacular writes none for a nested serializer's
        `many=True` list (`min_length`, `max_length`, `allow_empty=False`) nor for a
        `ListField(allow_empty=False)`, though DRF enforces them."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer | serializers.ListField) and (
            schema.get("type") == "array"
        ):
            min_length = getattr(field, "min_length", None)  # not in DRF's stubs for lists
            max_length = getattr(field, "max_length", None)
            low = max(min_length or 0, 0 if field.allow_empty else 1)
            if low:
                schema["minItems"] = max(low, schema.get("minItems", 0))
            if max_length is not None and "maxItems" not in schema:
                schema["maxItems"] = max_length
        return schema

    def get_override_parameters(self) -> list[Any]:
        """Adds the optional `Idempotency-Key` header to each unsafe operation that the base
        view makes idempotent (`lendcore.api.views.ApiView`, `Idempotency.AUTO`)."""
        parameters = list(super().get_override_parameters())
        if (
            self.method in _UNSAFE
            and getattr(self.view, "idempotency", None) == Idempotency.AUTO
            and not any(getattr(p, "name", None) == IDEMPOTENCY_HEADER for p in parameters)
        ):
            parameters.append(IDEMPOTENCY_KEY_OPTIONAL)
        return parameters

    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = _ERRORS[code]
        return responses

    def _error_codes(self) -> list[str]:
        """The errors this operation can answer, from how the view is set up."""
        view = self.view
        codes = ["400"]
        if self._answers_401():
            codes.append("401")
        elif view.get_authenticators():
            # a bad token fails authentication even where anyone may call (quotes, APR): with
            # the session authenticator first, DRF answers that 403, not 401
            codes.append("403")
        if "403" not in codes and not all(
            isinstance(p, permissions.AllowAny) for p in view.get_permissions()
        ):
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.method in _UNSAFE:
            codes.append("409")
        if any(
            getattr(p, "name", None) == IDEMPOTENCY_HEADER for p in self.get_override_parameters()
        ):
            codes.append("422")
        if view.get_throttles():
            codes.append("429")
        # a view names the errors its set-up does not show (a read refused by state: 409)
        codes.extend(c for c in getattr(view, "extra_error_codes", ()) if c not in codes)
        return sorted(codes)

    def _answers_401(self) -> bool:
        # DRF answers 401 only when the first authenticator names a WWW-Authenticate scheme.
        authenticators = self.view.get_authenticators()
        first = authenticators[0] if authenticators else None
        return first is not None and bool(first.authenticate_header(self.view.request))
