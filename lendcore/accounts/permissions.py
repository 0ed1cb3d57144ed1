"""Permission checks shared by the API and the staff UI."""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.permissions import BasePermission

from .roles import perm
from .selectors import token_user_get, user_is_staff_member


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication with the lookup in one SQL query (`token_user_get`).

    Same answers (401 "Invalid token." / "User inactive or deleted."); `request.auth` is the
    Token row with only its key and user loaded (the rest loads on access)."""

    def authenticate_credentials(self, key):
        user = token_user_get(key=key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token.from_db(None, ["key", "user_id"], [key, user.pk])


def has_staff_permission(*codenames: str) -> type[BasePermission]:
    """A DRF permission class: a staff member holding every named permission."""

    class _HasStaffPermission(BasePermission):
        message = "This action needs a staff role with: " + ", ".join(codenames or ["staff"])

        def has_permission(self, request, view) -> bool:
            user = request.user
            return user_is_staff_member(user) and all(user.has_perm(perm(c)) for c in codenames)

    return _HasStaffPermission


IsStaffMember = has_staff_permission()


class StaffRequiredMixin(AccessMixin):
    """Staff UI views: anonymous users go to log in; logged-in non-staff get 403."""

    required_permissions: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        allowed = user_is_staff_member(user) and all(
            user.has_perm(perm(c)) for c in self.required_permissions
        )
        if not allowed:
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a View mixin
