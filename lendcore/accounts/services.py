"""Writes for users and borrowers."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from lendcore.errors import ValidationFailed

from .models import Borrower, LendingPermission
from .roles import PERMISSIONS, ROLE_PERMISSIONS, STAFF_ROLES

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


def auth_token_get_or_create(*, user: AbstractBaseUser) -> Token:
    # the stubs type Token.user as auth.User; it is the configured user model
    token, _ = Token.objects.get_or_create(user=user)  # type: ignore[misc]
    return token


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
        group.permissions.add(
            *Permission.objects.filter(content_type=content_type, codename__in=codenames)
        )
