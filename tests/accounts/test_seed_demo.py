import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory, override_settings

from lendcore.accounts.models import Borrower
from lendcore.core.demo_registry import demo_seeders

DEMO_USERS = {
    "loan_officer": "loan_officer",
    "underwriter": "underwriter",
    "underwriter2": "underwriter",
    "servicing_agent": "servicing_agent",
    "collector": "collector",
    "collections_manager": "collections_manager",
    "admin": "admin",
}


def _login_request():
    """A sign-in request: the lockout backend needs one to know the client's address."""
    return RequestFactory().post("/accounts/login/")


@pytest.mark.django_db
def test_seed_demo_creates_the_contract_users_and_is_idempotent(capsys):
    # When seed_demo runs twice
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out

    # Then every demo user exists once, in its group, with the demo password
    User = get_user_model()
    for username, group in DEMO_USERS.items():
        user = authenticate(_login_request(), username=username, password="lendcore-demo")
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [group]
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="underwriter").is_superuser
    for username in ("alice", "bob"):
        assert (
            authenticate(_login_request(), username=username, password="lendcore-demo") is not None
        )
        assert Borrower.objects.filter(user__username=username).count() == 1
    assert User.objects.count() == 10
    assert "Demo users already present" in out
    assert "lendcore-demo" in out


@pytest.mark.django_db
@override_settings(LENDCORE_ENVIRONMENT="production")
def test_seed_demo_refuses_production_settings():
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username="alice").exists()


def test_each_apps_demo_is_found_through_the_app_registry_in_its_order():
    # servicing's business date and loans, collections' work on them, origination's applications
    assert [seed.__module__ for seed in demo_seeders()] == [
        "servicing.demo",
        "collections_app.demo",
        "origination.demo",
    ]
