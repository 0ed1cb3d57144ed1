"""Users issue and revoke their API tokens from the UI; admins revoke any in the admin."""

from __future__ import annotations

import pytest

from lendcore.accounts.models import ApiToken
from lendcore.accounts.services import api_token_issue

pytestmark = pytest.mark.django_db

PAGE = "/accounts/tokens/"


def test_a_staff_member_issues_a_token_and_sees_its_key_once(client, servicing_agent):
    client.force_login(servicing_agent)
    response = client.post(PAGE, {"name": "GL export", "scope": "read_only", "expires_in_days": 30})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=servicing_agent)
    assert (token.name, token.scope) == ("GL export", "read_only")
    key = response.context["issued"].key
    assert key.encode() in response.content
    assert token.key_digest != key

    # the key is never shown again
    again = client.get(PAGE)
    assert key.encode() not in again.content
    assert token.prefix.encode() in again.content


def test_a_bad_token_form_names_the_field_and_issues_nothing(client, servicing_agent):
    client.force_login(servicing_agent)
    response = client.post(PAGE, {"name": "", "scope": "read_only", "expires_in_days": 400})
    assert response.status_code == 200
    assert "expires_in_days" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_a_user_revokes_a_token_of_their_own_only(client, servicing_agent, borrower):
    mine = api_token_issue(user=servicing_agent).token
    theirs = api_token_issue(user=borrower.user).token
    client.force_login(servicing_agent)
    assert client.post(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"{PAGE}{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None


def test_revoke_all_ends_every_token_of_the_user(client, borrower):
    for _ in range(3):
        api_token_issue(user=borrower.user)
    client.force_login(borrower.user)
    assert client.get(PAGE).status_code == 200  # a borrower has the page too, in the portal
    assert client.post(f"{PAGE}revoke-all/").status_code == 302
    assert not ApiToken.objects.filter(user=borrower.user, revoked_at__isnull=True).exists()


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_admin_revokes_tokens_in_the_admin(client, admin_user, servicing_agent):
    token = api_token_issue(user=servicing_agent).token
    client.force_login(admin_user)
    assert client.get("/admin/accounts/apitoken/").status_code == 200
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
