"""`user_is_staff_member` answers as `has_perm("accounts.access_staff_ui")`, in one query."""

import pytest
from django.contrib.auth.models import Permission, User

from lendcore.accounts.roles import perm
from lendcore.accounts.selectors import token_user_get, user_is_staff_member
from lendcore.accounts.services import api_token_issue


def _fresh(user):
    return User.objects.get(pk=user.pk)  # no permission cache yet


@pytest.mark.django_db
def test_matches_has_perm_for_every_kind_of_user(
    borrower, servicing_agent, loan_officer, admin_user, django_assert_num_queries
):
    direct = User.objects.create_user("direct", password="x")
    direct.user_permissions.add(Permission.objects.get(codename="access_staff_ui"))
    inactive = User.objects.create_user("inactive", password="x", is_active=False)
    inactive.groups.add(*_fresh(servicing_agent).groups.all())
    root = User.objects.create_superuser("root", password="x")
    users = [borrower.user, servicing_agent, loan_officer, admin_user, direct, inactive, root]

    for user in users:
        expected = _fresh(user).has_perm(perm("access_staff_ui"))
        fresh = _fresh(user)
        with django_assert_num_queries(1 if user.is_active and not user.is_superuser else 0):
            answer = user_is_staff_member(fresh)
            # the cache it fills answers the other permission checks of the request
            fresh.has_perm(perm("service_loans"))
        assert answer is expected, user.username
        assert fresh.has_perm(perm("service_loans")) == _fresh(user).has_perm(perm("service_loans"))
    assert [user_is_staff_member(_fresh(u)) for u in users] == [
        False,
        True,
        True,
        True,
        True,
        False,
        True,
    ]


@pytest.mark.django_db
def test_token_lookup_fills_the_permission_cache(
    borrower, servicing_agent, django_assert_num_queries
):
    """The token query reads the user's permissions too: the staff check of an API call then
    costs no query, for a borrower (none) as for a staff member (their role's)."""
    for user, staff in ((borrower.user, False), (servicing_agent, True)):
        issued = api_token_issue(user=user)
        with django_assert_num_queries(1):
            got = token_user_get(key=issued.key)
        assert got is not None
        found, token = got
        assert found.pk == user.pk
        assert token.pk == issued.token.pk
        with django_assert_num_queries(0):
            assert user_is_staff_member(found) is staff
        assert found.has_perm(perm("service_loans")) is staff
    assert token_user_get(key="nope") is None
