"""Helpers every origination API view shares: permissions, input parsing, the channel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from lendcore.accounts.selectors import borrower_for_user, user_can, user_is_staff_member
from origination import selectors
from origination.errors import PermissionDenied, ValidationFailed
from origination.models import Application

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def has_perm_code(user: Any, codename: str) -> bool:
    return user_can(user, codename)


def require(user: Any, *codenames: str) -> None:
    if not all(has_perm_code(user, c) for c in codenames):
        raise PermissionDenied("This action needs a staff role with: " + ", ".join(codenames) + ".")


def parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        fields = {
            k: [str(m) for m in v] if isinstance(v, list) else v
            for k, v in serializer.errors.items()
        }
        names = ", ".join(sorted(k for k in fields if k != "non_field_errors"))
        message = f"Invalid input: {names}." if names else str(fields["non_field_errors"][0])
        raise ValidationFailed.for_fields(fields, message=message)
    return dict(serializer.validated_data)


def channel_of(request: Request) -> str:
    if isinstance(request.auth, Token):
        return Application.Channel.API
    if user_is_staff_member(request.user):
        return Application.Channel.STAFF
    return Application.Channel.PORTAL


def client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def owner_or_staff(request: Request, application_id: int) -> Application:
    """The application if the user may work it: its borrower, or staff managing applications."""
    return selectors.application_get(user=request.user, application_id=application_id)


def staff_may_manage(user: Any) -> bool:
    return has_perm_code(user, "manage_applications")


def borrower_or_manager(request: Request) -> None:
    if staff_may_manage(request.user):
        return
    if user_is_staff_member(request.user) or borrower_for_user(request.user) is None:
        raise PermissionDenied("Only the borrower or staff managing applications may do this.")
