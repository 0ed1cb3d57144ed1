"""Reads about users: roles and visibility."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from lendcore.core.sqlrows import execute, select_columns, select_model_pairs

from .models import ApiToken, Borrower
from .roles import STAFF_ROLES, perm
from .tokens import key_digest


def user_roles(user: User | AnonymousUser) -> list[str]:
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_lendcore_roles"):
        names = user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True)
        user._lendcore_roles = sorted(names)  # type: ignore[attr-defined]
    return user._lendcore_roles  # type: ignore[attr-defined]


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
LOCKOUT_BACKEND = "axes.backends.AxesStandaloneBackend"


def user_is_staff_member(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    user_permissions_load(user)
    return user.has_perm(perm("access_staff_ui"))


def user_can(user: User | AnonymousUser, *actions: str) -> bool:
    """Whether `user` is a staff member whose roles allow every one of `actions` (the policy
    table, `roles.POLICY`, through the role groups' permissions). The one check of the API,
    the staff UI and the services' staff gates."""
    return user_is_staff_member(user) and all(user.has_perm(perm(a)) for a in actions)


def user_permissions_load(user: User) -> None:
    """Fill ModelBackend's per-request permission cache of `user` with one SQL query (its
    own two ORM queries, user and group permissions, are paid by every API call: the staff
    check).

    Only for an active, non-superuser user under ModelBackend alone, before anything asked:
    then `user.has_perm` answers from this cache exactly as it would from its own."""
    if hasattr(user, "_perm_cache") or not _perm_cache_applies(user):
        return
    sql = f"SELECT ct.app_label, p.codename {_permissions_from('%s')}"
    with connection.cursor() as cursor:
        execute(cursor, sql, [user.pk, user.pk])
        rows = cursor.fetchall()
    user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}  # type: ignore[attr-defined]


def _permissions_from(user_id: str) -> str:
    """`FROM ... WHERE ...` of the permissions (joined to their content type `ct`) that the
    user `user_id` (an SQL expression, used twice) has directly or through a group."""
    user_model = get_user_model()
    groups = user_model.groups.through  # user <-> group
    direct = user_model.user_permissions.through  # user <-> permission
    group_perms = Group.permissions.through  # group <-> permission

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    return (
        f"FROM {table(Permission)} p "  # noqa: S608 (identifiers from _meta; the id a parameter or column)
        f"JOIN {table(ContentType)} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {table(direct)} WHERE user_id = {user_id}) "
        f"OR p.id IN (SELECT gp.permission_id FROM {table(group_perms)} gp "
        f"JOIN {table(groups)} ug ON ug.group_id = gp.group_id WHERE ug.user_id = {user_id})"
    )


def _perm_cache_applies(user: User) -> bool:
    """Whether ModelBackend's permission cache of `user` is the set of the user's and their
    groups' permissions (active, not a superuser, ModelBackend the only backend that answers
    permissions: the lockout backend answers none)."""
    answering = [b for b in settings.AUTHENTICATION_BACKENDS if b != LOCKOUT_BACKEND]
    return user.is_active and not user.is_superuser and answering == [MODEL_BACKEND]


def token_user_get(*, key: str) -> tuple[User, ApiToken] | None:
    """The API token whose key is `key` (live or not) and its active-or-not user, in one SQL
    query (every API call asks; an ORM lookup with select_related cost more to compile than
    to run).

    The same query reads the user's permissions (their own and their groups', as
    `user_permissions_load` does), which fill ModelBackend's permission cache where it
    applies: the staff check of every API call then costs no query of its own."""
    user_model = get_user_model()
    qn = connection.ops.quote_name
    pk = qn(str(user_model._meta.pk.column))
    aggregate = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    sql = (
        f"SELECT {select_columns(user_model, 'u')}, {select_columns(ApiToken, 't')}, "  # noqa: S608
        f"(SELECT {aggregate}(ct.app_label || '.' || p.codename, ',') "
        f"{_permissions_from(f'u.{pk}')}) "
        f"FROM {qn(user_model._meta.db_table)} u "
        f"JOIN {qn(ApiToken._meta.db_table)} t ON t.user_id = u.{pk} WHERE t.key_digest = %s"
    )
    rows = select_model_pairs(user_model, ApiToken, sql, [key_digest(key)])
    if not rows:
        return None
    found, token, (permissions,) = rows[0]
    user = cast(User, found)
    if _perm_cache_applies(user):  # app labels and codenames hold no comma
        user._perm_cache = set(permissions.split(",")) if permissions else set()  # type: ignore[attr-defined]
    return user, cast(ApiToken, token)


def api_tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (live, expired and revoked)."""
    return list(ApiToken.objects.filter(user=user).order_by("-id"))


def borrower_for_user(user: User | AnonymousUser) -> Borrower | None:
    if not user.is_authenticated:
        return None
    return Borrower.objects.filter(user=user).first()
