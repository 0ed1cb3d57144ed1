import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from lendcore.accounts.models import Borrower


@pytest.mark.django_db
def test_sign_up_creates_borrower_and_logs_in(client, roles):
    response = client.post(
        "/accounts/signup/",
        {
            "first_name": "Erin",
            "last_name": "Evans",
            "email": "Erin@Example.com",
            "phone": "",
            "password": "a-long-passphrase-9",
            "password_confirm": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302
    borrower = Borrower.objects.get()
    assert borrower.email == "erin@example.com"
    assert borrower.user.username == "erin@example.com"
    assert client.get("/").context["user"].is_authenticated


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
def test_duplicate_email_and_weak_password_are_form_errors(client, borrower):
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
    assert "already exists" in errors["email"][0]
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
