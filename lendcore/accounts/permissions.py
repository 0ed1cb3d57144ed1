"""Permission checks shared by the API and the staff UI."""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission

from .roles import Action
from .selectors import token_user_get, user_can, user_is_staff_member
from .services import api_token_touch
from .tokens import password_stamp, scope_allows


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` for `ApiToken`s, looked up in one SQL query.

    Refused (AuthenticationFailed, naming why) for a key that is unknown, revoked, expired or
    older than its user's password, or a user inactive; PermissionDenied when the token's
    scope does not reach the view or the method (`lendcore.accounts.tokens.scope_allows`).
    Both answer 403: session authentication is listed first and names no WWW-Authenticate
    scheme, so DRF does not answer 401. `request.auth` is the `ApiToken`."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None:
            return None
        token = found[1]
        match = request._request.resolver_match
        view_class = getattr(match.func, "view_class", None) if match else None
        module = view_class.__module__ if view_class else ""
        if not scope_allows(token.scope, method=request.method, view_module=module):
            raise exceptions.PermissionDenied(
                f"This token's scope ({token.scope}) does not allow {request.method} here."
            )
        return found

    def authenticate_credentials(self, key):
        found = token_user_get(key=key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, token = found
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("Token revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("Token expired."))
        if token.password_stamp != password_stamp(user.password):
            raise exceptions.AuthenticationFailed(_("Token ended by a password change."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        api_token_touch(token, now)
        return user, token


def has_staff_permission(*codenames: str) -> type[BasePermission]:
    """A DRF permission class: a staff member whose roles allow every named action."""

    class _HasStaffPermission(BasePermission):
        message = "This action needs a staff role with: " + ", ".join(codenames or ["staff"])

        def has_permission(self, request, view) -> bool:
            return user_can(request.user, *codenames)

    return _HasStaffPermission


IsStaffMember = has_staff_permission()


def borrower_or_staff(*actions: str) -> type[BasePermission]:
    """A DRF permission class for what borrowers reach for their own objects and staff for
    everyone's: any signed-in non-staff user passes (the selectors keep a borrower to their
    own objects: 404 on another's); a staff member needs one of `actions`, else 403, as the
    staff pages answer them."""

    class _BorrowerOrStaff(BasePermission):
        message = "This needs a staff role with one of: " + ", ".join(actions)

        def has_permission(self, request, view) -> bool:
            user = request.user
            if not user.is_authenticated:
                return False
            if not user_is_staff_member(user):
                return True
            return any(user_can(user, action) for action in actions)

    return _BorrowerOrStaff


# Servicing reads: a borrower's own loans, or staff whose role may read loans.
CanReadLoans = borrower_or_staff(Action.READ_LOAN)


class StaffRequiredMixin(AccessMixin):
    """Staff UI views: anonymous users go to log in; logged-in non-staff get 403."""

    required_permissions: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        if not user_can(user, *self.required_permissions):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a View mixin
