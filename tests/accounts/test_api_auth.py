import pytest

TOKEN_URL = "/api/v1/auth/token/"


def test_token_for_valid_credentials(api_client, underwriter):
    response = api_client.post(
        TOKEN_URL, {"username": "t_underwriter", "password": "lendcore-demo"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["token"]) == 43
    assert body["prefix"] == body["token"][:8]
    assert body["scope"] == "admin"

    # Each request issues another token, and each authenticates.
    again = api_client.post(
        TOKEN_URL, {"username": "t_underwriter", "password": "lendcore-demo"}, format="json"
    )
    assert again.json()["token"] != body["token"]
    for key in (body["token"], again.json()["token"]):
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert api_client.get("/api/v1/business-date/").status_code == 200


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
