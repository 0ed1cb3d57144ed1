"""Reads about users: roles and visibility."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from .models import Borrower
from .roles import STAFF_ROLES, perm


def user_roles(user: User | AnonymousUser) -> list[str]:
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_lendcore_roles"):
        names = user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True)
        user._lendcore_roles = sorted(names)  # type: ignore[union-attr]
    return user._lendcore_roles  # type: ignore[union-attr]


def user_is_staff_member(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.has_perm(perm("access_staff_ui")))


def borrower_for_user(user: User | AnonymousUser) -> Borrower | None:
    if not user.is_authenticated:
        return None
    return Borrower.objects.filter(user=user).first()
