"""The one error family. Services raise these; the API and the UI render them the same way.

Each app's `errors.py` subclasses `ApplicationError` with its own codes. `http_status` is
what the API answers: 400 validation, 403 not allowed, 404 not visible, 409 not allowed in
the current state, 502 upstream down.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    http_status = 400
    default_code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}

    @classmethod
    def for_fields(cls, fields: dict[str, list[str]], message: str = "Invalid input.", **kw: Any):
        """A validation error naming each bad field with its messages."""
        return cls(message, extra={"fields": fields}, **kw)


class ValidationFailed(ApplicationError):
    http_status = 400
    default_code = "invalid"


class PermissionDenied(ApplicationError):
    http_status = 403
    default_code = "permission_denied"


class NotFound(ApplicationError):
    http_status = 404
    default_code = "not_found"


class InvalidTransition(ApplicationError):
    """An action not allowed in the current state (HTTP 409)."""

    http_status = 409
    default_code = "invalid_transition"


class Conflict(ApplicationError):
    http_status = 409
    default_code = "conflict"


class UpstreamUnavailable(ApplicationError):
    http_status = 502
    default_code = "upstream_unavailable"
