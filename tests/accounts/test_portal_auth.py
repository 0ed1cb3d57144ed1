import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from lendcore.accounts.models import Borrower

SIGN_UP = {
    "first_name": "Erin",
    "last_name": "Evans",
    "email": "Erin@Example.com",
    "phone": "",
    "password": "a-long-passphrase-9",
    "password_confirm": "a-long-passphrase-9",
}


def _link(message) -> str:
    return re.search(r"http://testserver(/accounts/signup/confirm/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_sign_up_sends_a_link_that_opens_the_account_and_signs_in(client, roles):
    response = client.post("/accounts/signup/", SIGN_UP)
    assert response.status_code == 200
    assert b"Check your e-mail" in response.content
    borrower = Borrower.objects.get()
    assert borrower.email == "erin@example.com"
    assert borrower.user.username == "erin@example.com"
    assert not borrower.user.is_active  # not before the e-mail is confirmed
    assert not client.get("/").context["user"].is_authenticated
    signed_in = client.post(
        "/accounts/login/", {"username": "erin@example.com", "password": SIGN_UP["password"]}
    )
    assert signed_in.status_code == 200  # the form again: no sign-in yet

    link = _link(mail.outbox[-1])
    assert client.get(link)["Location"] == "/"
    assert client.get("/").context["user"].is_authenticated
    borrower.user.refresh_from_db()
    assert borrower.user.is_active

    # the link works once
    client.post("/accounts/logout/")
    again = client.get(link)
    assert b"used already" in again.content
    assert not client.get("/").context["user"].is_authenticated


@pytest.mark.django_db
def test_sign_up_never_tells_whether_an_email_has_an_account(client, borrower):
    new = client.post("/accounts/signup/", {**SIGN_UP, "email": "new@example.com"})
    taken = client.post("/accounts/signup/", {**SIGN_UP, "email": "Carol@example.com"})
    # the same page for both, but for the address typed (and the per-response CSRF mask)
    assert new.status_code == taken.status_code == 200

    def page(response, email):
        html = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)

    assert page(new, "new@example.com") == page(taken, "Carol@example.com")
    # the owner of the existing account is told, and nothing was created for it
    assert "already has one" in mail.outbox[-1].body
    assert mail.outbox[-1].to == ["carol@example.com"]
    assert Borrower.objects.filter(email="carol@example.com").count() == 1


@pytest.mark.django_db
def test_a_forged_or_stale_link_opens_nothing(client, roles, settings):
    response = client.get("/accounts/signup/confirm/not-a-token/")
    assert response.status_code == 200
    assert b"not valid or has expired" in response.content


@pytest.mark.django_db
def test_sign_up_errors_name_the_fields_and_create_nothing(client, borrower):
    response = client.post(
        "/accounts/signup/",
        {
            "first_name": "",
            "last_name": "X",
            "email": "carol@example.com",  # taken by the borrower fixture
            "password": "short",
            "password_confirm": "different",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "first_name" in errors
    assert "password_confirm" in errors
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_a_weak_password_is_a_form_error_whatever_the_email(client, borrower):
    response = client.post(
        "/accounts/signup/",
        {
            "first_name": "C",
            "last_name": "C",
            "email": "carol@example.com",
            "password": "password",
            "password_confirm": "password",
        },
    )
    errors = response.context["form"].errors
    assert "email" not in errors  # never says the e-mail has an account
    assert "password" in errors
    assert Borrower.objects.count() == 1


@pytest.mark.django_db
def test_log_in_and_out(client, borrower):
    response = client.post(
        "/accounts/login/", {"username": "carol@example.com", "password": "lendcore-demo"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/after-login/"
    assert client.get("/after-login/")["Location"] == "/"
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not client.get("/").context["user"].is_authenticated


@pytest.mark.django_db
def test_staff_login_lands_on_dashboard(client, underwriter):
    client.post("/accounts/login/", {"username": "t_underwriter", "password": "lendcore-demo"})
    assert client.get("/after-login/")["Location"] == "/staff/"


@pytest.mark.django_db
def test_password_reset_by_email(client, borrower):
    response = client.post("/accounts/password-reset/", {"email": "carol@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"}
    )
    assert response.status_code == 302
    signed_in = client.post(
        "/accounts/login/",
        {"username": "carol@example.com", "password": "brand-new-secret-42"},
    )
    assert signed_in.status_code == 302
    assert client.get("/my-loans/").status_code == 200
