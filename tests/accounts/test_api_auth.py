import pytest

TOKEN_URL = "/api/v1/auth/token/"


def test_token_for_valid_credentials(api_client, underwriter):
    response = api_client.post(
        TOKEN_URL, {"username": "t_underwriter", "password": "lendcore-demo"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40

    # The same token comes back on a second request, and it authenticates.
    again = api_client.post(
        TOKEN_URL, {"username": "t_underwriter", "password": "lendcore-demo"}, format="json"
    )
    assert again.json()["token"] == token


def test_token_wrong_password_is_400_with_error_body(api_client, underwriter):
    response = api_client.post(
        TOKEN_URL, {"username": "t_underwriter", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert set(response.json()) == {"message", "code", "extra"}


@pytest.mark.django_db
def test_token_missing_fields_are_named(api_client):
    response = api_client.post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["extra"]["fields"]) == {"username", "password"}


@pytest.mark.django_db
def test_token_non_json_body_is_400(api_client):
    response = api_client.post(TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
