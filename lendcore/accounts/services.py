"""Writes for users and borrowers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.auth.models import User as AuthUser
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from lendcore.core.audit import Action, audit_record
from lendcore.errors import PermissionDenied, ValidationFailed

from .models import ApiToken, Borrower, LendingPermission
from .roles import PERMISSIONS, ROLE_PERMISSIONS, STAFF_ROLES
from .tokens import (
    DEFAULT_DAYS,
    KEY_PREFIX_LENGTH,
    MAX_DAYS,
    SCOPE_LABELS,
    TokenScope,
    key_digest,
    key_new,
    password_stamp,
)

LAST_USED_EVERY = timedelta(minutes=1)

User = get_user_model()


@transaction.atomic
def borrower_sign_up(
    *, email: str, password: str, first_name: str, last_name: str, phone: str = ""
) -> Borrower:
    """Create a portal user and its borrower profile. The e-mail is the username."""
    email = User.objects.normalize_email(email).strip().lower()
    errors: dict[str, list[str]] = {}
    if (
        User.objects.filter(username__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    ):
        errors["email"] = ["An account with this e-mail already exists."]
    candidate = User(username=email, email=email, first_name=first_name, last_name=last_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed.for_fields(errors)

    candidate.set_password(password)
    candidate.save()
    return Borrower.objects.create(
        user=candidate, first_name=first_name, last_name=last_name, email=email, phone=phone
    )


SIGN_UP_MAX_AGE = 60 * 60 * 24 * 3  # a confirmation link works for three days
_SIGN_UP_SALT = "lendcore.accounts.sign-up"


def borrower_sign_up_request(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str = "",
    confirm_url: Callable[[str], str],
    sign_in_url: str,
) -> None:
    """The portal's sign-up, which never tells whether an e-mail has an account.

    The password is checked first (its errors name the field, the same for any e-mail). A new
    e-mail gets an inactive account and a link (`confirm_url(token)`) that opens it; an e-mail
    that has an account gets a note to sign in instead. Either way the caller shows the same
    "check your e-mail" page."""
    email = User.objects.normalize_email(email).strip().lower()
    candidate = User(username=email, email=email, first_name=first_name, last_name=last_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ValidationFailed.for_fields({"password": list(exc.messages)}) from exc
    taken = (
        User.objects.filter(username__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    )
    if taken:
        send_mail(
            "Your LendCore account",
            "Someone (perhaps you) tried to create a LendCore account with this e-mail, which "
            f"already has one. To sign in: {sign_in_url}\nIf you forgot your password, use "
            '"Forgot your password?" there. If it was not you, you can ignore this e-mail.',
            None,
            [email],
        )
        return
    with transaction.atomic():
        candidate.set_password(password)
        candidate.is_active = False
        candidate.save()
        Borrower.objects.create(
            user=candidate, first_name=first_name, last_name=last_name, email=email, phone=phone
        )
    token = signing.dumps(candidate.pk, salt=_SIGN_UP_SALT)
    send_mail(
        "Confirm your LendCore account",
        f"Welcome to LendCore, {first_name}. Open this link to confirm your e-mail and sign in "
        f"(it works for three days): {confirm_url(token)}",
        None,
        [email],
    )


def borrower_sign_up_confirm(*, token: str) -> AuthUser:
    """Open the account a sign-up link names; the link works once and for three days."""
    try:
        user_id = signing.loads(token, salt=_SIGN_UP_SALT, max_age=SIGN_UP_MAX_AGE)
    except signing.BadSignature as exc:
        raise ValidationFailed("This link is not valid or has expired. Sign up again.") from exc
    user = User.objects.filter(pk=user_id, is_active=False, last_login__isnull=True).first()
    if user is None:
        raise ValidationFailed("This link was used already: sign in instead.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


def borrower_create_without_login(
    *, first_name: str, last_name: str, email: str, phone: str = ""
) -> Borrower:
    """A borrower served by staff, with no portal login yet (origination, at disbursement)."""
    return Borrower.objects.create(
        user=None,
        first_name=first_name,
        last_name=last_name,
        email=User.objects.normalize_email(email).strip().lower(),
        phone=phone,
    )


def staff_user_create(
    *, username: str, password: str, role: str, email: str = "", superuser: bool = False
) -> AbstractBaseUser:
    """Create a staff user in one role group (used by seed_demo and tests)."""
    if role not in STAFF_ROLES:
        raise ValidationFailed.for_fields({"role": [f"Unknown role {role!r}."]})
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        is_staff=superuser,
        is_superuser=superuser,
    )
    user.groups.add(Group.objects.get(name=role))
    return user


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued, with its key: the only time the key is known."""

    token: ApiToken
    key: str


def api_token_issue(
    *,
    user: AuthUser,
    scope: str = TokenScope.ADMIN,
    name: str = "",
    days: int = DEFAULT_DAYS,
    request: HttpRequest | None = None,
) -> IssuedToken:
    """A new token for `user`, valid `days` days (1 to MAX_DAYS) and limited to `scope`."""
    errors: dict[str, list[str]] = {}
    if scope not in SCOPE_LABELS:
        errors["scope"] = [f"Choose one of: {', '.join(SCOPE_LABELS)}."]
    if not 1 <= days <= MAX_DAYS:
        errors["expires_in_days"] = [f"Must be from 1 to {MAX_DAYS} days."]
    if len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    if errors:
        raise ValidationFailed.for_fields(errors)
    key = key_new()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:KEY_PREFIX_LENGTH],
        key_digest=key_digest(key),
        scope=scope,
        password_stamp=password_stamp(user.password),
        expires_at=now + timedelta(days=days),
        last_used_at=now,
    )
    audit_record(
        action=Action.TOKEN_ISSUED, actor=user, request=request, obj=token, scope=scope, days=days
    )
    return IssuedToken(token=token, key=key)


def api_token_revoke(
    *, token: ApiToken, acting_user: Any, request: HttpRequest | None = None
) -> ApiToken:
    """Revoke `token` (its owner, or an admin). Revoking a revoked token changes nothing."""
    if acting_user.pk != token.user_id and not acting_user.is_superuser:
        raise PermissionDenied("Only the token's owner or an admin can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action=Action.TOKEN_REVOKED,
            actor=acting_user,
            request=request,
            obj=token,
            owner=token.user_id,
        )
    return token


def api_tokens_revoke_all(*, user: AuthUser, request: HttpRequest | None = None) -> int:
    """Revoke every live token of `user` ("sign out everywhere" for the API)."""
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_record(action=Action.TOKEN_REVOKED, actor=user, request=request, all=True, count=count)
    return count


def api_token_touch(token: ApiToken, now: datetime) -> None:
    """Record that `token` was used, at most once a minute (not a write per request)."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def roles_sync() -> None:
    """Make the role groups hold exactly their permissions (idempotent).

    Migration 0002 does this on a new database; tests that flush tables and `seed_demo` call
    it so that the groups are always there.
    """
    content_type = ContentType.objects.get_for_model(LendingPermission, for_concrete_model=False)
    for codename, name in PERMISSIONS.items():
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        mine = Permission.objects.filter(content_type=content_type)
        group.permissions.remove(*mine.exclude(codename__in=codenames))
        group.permissions.add(*mine.filter(codename__in=codenames))
