"""`deferred_checks_now`: a transaction's deferred constraints checked before its COMMIT (close of
business times them as a step), the rest of the transaction deferred as before."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, connection, transaction

from lendcore.core.deferred_checks import deferred_checks_now

pytestmark = pytest.mark.django_db

Membership = User.groups.through


def _missing_user_id() -> int:
    return (User.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 999


@pytest.mark.postgres
def test_a_dangling_foreign_key_is_refused_by_the_early_check():
    group = Group.objects.create(name="tellers")

    def write_a_dangling_row():
        with transaction.atomic():
            Membership.objects.create(user_id=_missing_user_id(), group=group)
            deferred_checks_now()

    with pytest.raises(IntegrityError):
        write_a_dangling_row()
    assert not Membership.objects.filter(group=group).exists()


@pytest.mark.postgres
def test_after_the_early_check_the_transaction_is_deferred_again():
    group = Group.objects.create(name="tellers")
    with transaction.atomic():
        assert deferred_checks_now()
        # a row naming a user created only later in the transaction: refused by an immediate
        # check, fine for a deferred one
        user_id = _missing_user_id()
        Membership.objects.create(user_id=user_id, group=group)
        User.objects.create(id=user_id, username="late")
        assert deferred_checks_now()
        transaction.set_rollback(True)


@pytest.mark.postgres
def test_every_deferrable_constraint_is_initially_deferred():
    """`deferred_checks_now` ends with SET CONSTRAINTS ALL DEFERRED, which would defer a
    constraint declared DEFERRABLE INITIALLY IMMEDIATE for the rest of the transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE condeferrable AND NOT condeferred"
        )
        assert cursor.fetchall() == []


def test_on_sqlite_there_is_nothing_deferred_to_check():
    assert deferred_checks_now() is (connection.vendor == "postgresql")
