"""This app's errors (rendered by the one API exception handler)."""

from __future__ import annotations

from enum import StrEnum

from lendcore.errors import Conflict, ValidationFailed


class ErrorCode(StrEnum):
    INVALID_URL = "invalid_webhook_url"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    INVALID_SECRET = "invalid_webhook_secret"
    SUBSCRIPTION_DISABLED = "subscription_disabled"


class WebhookInvalid(ValidationFailed):
    pass


class WebhookConflict(Conflict):
    pass
