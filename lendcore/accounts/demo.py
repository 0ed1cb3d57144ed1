"""Demo users (a contract: later checks log in as them). Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .models import Borrower
from .roles import Role
from .services import roles_sync

DEMO_PASSWORD = "lendcore-demo"

# username -> role
DEMO_STAFF: dict[str, Role] = {
    "loan_officer": Role.LOAN_OFFICER,
    "underwriter": Role.UNDERWRITER,
    "underwriter2": Role.UNDERWRITER,
    "servicing_agent": Role.SERVICING_AGENT,
    "collector": Role.COLLECTOR,
    "collections_manager": Role.COLLECTIONS_MANAGER,
    "auditor": Role.AUDITOR,
    "admin": Role.ADMIN,
}


@dataclass(frozen=True)
class DemoBorrower:
    username: str
    first_name: str
    last_name: str
    email: str
    phone: str


DEMO_BORROWERS = (
    DemoBorrower("alice", "Alice", "Anderson", "alice@example.com", "+1 555 0100"),
    DemoBorrower("bob", "Bob", "Brown", "bob@example.com", "+1 555 0101"),
)


@transaction.atomic
def seed_demo_users() -> list[str]:
    """Create the demo staff and borrowers; an existing user is reused, not changed."""
    roles_sync()
    User = get_user_model()
    created: list[str] = []
    for username, role in DEMO_STAFF.items():
        is_admin = role is Role.ADMIN
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@lendcore.local",
                "is_staff": is_admin,
                "is_superuser": is_admin,
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(username)
        user.groups.add(Group.objects.get(name=str(role)))

    for demo in DEMO_BORROWERS:
        user, was_created = User.objects.get_or_create(
            username=demo.username,
            defaults={
                "email": demo.email,
                "first_name": demo.first_name,
                "last_name": demo.last_name,
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(demo.username)
        Borrower.objects.get_or_create(
            user=user,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": demo.email,
                "phone": demo.phone,
            },
        )
    return created
