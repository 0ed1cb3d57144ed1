import pytest
from django.contrib.auth.models import Group

from lendcore.accounts.roles import PERMISSIONS, ROLE_PERMISSIONS, STAFF_ROLES


@pytest.mark.django_db
def test_migration_creates_every_role_group_with_its_permissions():
    # Given a migrated database (no fixture re-syncs the roles here)
    # Then each role group exists with exactly the permissions of its row
    assert set(Group.objects.filter(name__in=STAFF_ROLES).values_list("name", flat=True)) == {
        "loan_officer",
        "underwriter",
        "servicing_agent",
        "collector",
        "collections_manager",
        "auditor",
        "admin",
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=str(role))
        held = set(group.permissions.values_list("codename", flat=True))
        assert held == set(codenames), role


@pytest.mark.django_db
def test_admin_role_holds_every_permission():
    admin = Group.objects.get(name="admin")
    assert set(admin.permissions.values_list("codename", flat=True)) == set(PERMISSIONS)


def test_roles_have_staff_ui_access(underwriter, collector, servicing_agent, loan_officer):
    for user in (underwriter, collector, servicing_agent, loan_officer):
        assert user.has_perm("accounts.access_staff_ui")
    assert underwriter.has_perm("accounts.underwrite_applications")
    assert not loan_officer.has_perm("accounts.underwrite_applications")
    assert not collector.has_perm("accounts.run_close_of_business")


def test_borrower_has_no_staff_permission(borrower):
    assert not borrower.user.has_perm("accounts.access_staff_ui")


def test_modification_approval_is_its_own_permission(admin_user, servicing_agent, collector):
    # Only the admin role approves modifications above the limit; agents request them.
    assert admin_user.has_perm("accounts.approve_modifications")
    assert not servicing_agent.has_perm("accounts.approve_modifications")
    assert not collector.has_perm("accounts.approve_modifications")


@pytest.mark.django_db
def test_the_collections_manager_reassigns_and_the_collector_does_not():
    manager = set(
        Group.objects.get(name="collections_manager").permissions.values_list("codename", flat=True)
    )
    collector = set(
        Group.objects.get(name="collector").permissions.values_list("codename", flat=True)
    )
    assert "manage_collections" in manager
    assert "work_collections" in manager
    assert "manage_collections" not in collector
    assert not {"service_loans", "modify_loans", "reverse_payments"} & manager
