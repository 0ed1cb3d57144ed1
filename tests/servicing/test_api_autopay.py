"""GET/POST/DELETE /api/v1/loans/{id}/autopay/ (issue 13): the borrower's own loan (another's
404), staff with service_loans on the borrower's request (others 403), bad input 400 naming
the field, a replayed Idempotency-Key enrols once, 409 when not enrolled or not active."""

from __future__ import annotations

from datetime import date

import pytest
from drf_spectacular.generators import SchemaGenerator

from servicing.autopay import AUTHORIZATION_VERSION
from servicing.models import AutopayEnrolment, Loan
from servicing.services import payment_post, payoff_quote

pytestmark = pytest.mark.django_db

BODY = {"account_number": "000123456789", "routing_number": "021000021", "authorized": True}


def _url(loan) -> str:
    return f"/api/v1/loans/{loan.pk}/autopay/"


@pytest.fixture
def carol(api_client, borrower):
    api_client.force_authenticate(borrower.user)
    return api_client


def test_borrower_enrols_reads_and_cancels(carol, loan, borrower):
    assert carol.get(_url(loan)).json()["enrolled"] is False

    created = carol.post(_url(loan), BODY, format="json", HTTP_IDEMPOTENCY_KEY="ap-1")

    assert created.status_code == 201
    body = created.json()
    assert body["active"] is True
    assert body["account_last4"] == "6789"
    assert body["routing_number_masked"].endswith("0021")
    assert body["created_by"] == borrower.user.username
    assert "000123456789" not in created.content.decode()
    read = carol.get(_url(loan)).json()
    assert read["enrolled"] is True
    assert read["enrolment"]["id"] == body["id"]
    assert read["authorization_version"] == AUTHORIZATION_VERSION

    cancelled = carol.delete(_url(loan), HTTP_IDEMPOTENCY_KEY="ap-2")

    assert cancelled.status_code == 200
    assert cancelled.json()["active"] is False
    assert cancelled.json()["cancelled_at"] is not None
    assert carol.delete(_url(loan)).status_code == 409


def test_a_replayed_key_enrols_once(carol, loan):
    first = carol.post(_url(loan), BODY, format="json", HTTP_IDEMPOTENCY_KEY="ap-same")
    again = carol.post(_url(loan), BODY, format="json", HTTP_IDEMPOTENCY_KEY="ap-same")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert AutopayEnrolment.objects.filter(loan=loan).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"routing_number": "021000022"}, "routing_number"),  # check digit
        ({"routing_number": "02100002"}, "routing_number"),
        ({"account_number": "12"}, "account_number"),
        ({"account_number": 123456789}, "account_number"),
        ({"authorized": False}, "authorized"),
        ({"authorized": "true"}, "authorized"),
    ],
)
def test_bad_input_is_400_naming_the_field(carol, loan, change, field):
    response = carol.post(_url(loan), {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not AutopayEnrolment.objects.exists()


def test_another_borrowers_loan_is_404(api_client, other_borrower, loan):
    api_client.force_authenticate(other_borrower.user)
    assert api_client.get(_url(loan)).status_code == 404
    assert api_client.post(_url(loan), BODY, format="json").status_code == 404
    assert api_client.delete(_url(loan)).status_code == 404
    assert not AutopayEnrolment.objects.exists()


def test_staff_need_service_loans_to_write(staff_api_client, servicing_agent, loan_officer, loan):
    agent = staff_api_client(servicing_agent)
    assert agent.post(_url(loan), BODY, format="json").status_code == 201
    officer = staff_api_client(loan_officer)
    assert officer.get(_url(loan)).status_code == 403
    assert officer.delete(_url(loan)).status_code == 403
    assert AutopayEnrolment.objects.get(loan=loan).active


def test_a_paid_off_loan_is_409(carol, loan, business_date):
    on = business_date(date(2026, 1, 10))
    quote = payoff_quote(loan=loan, on=on)
    payment_post(
        loan=loan, amount=quote.payoff_amount, effective_date=on, method="ach", acting_user=None
    )
    assert Loan.objects.get(pk=loan.pk).status == Loan.Status.PAID_OFF
    response = carol.post(_url(loan), BODY, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "loan_closed"
    assert not AutopayEnrolment.objects.exists()


def test_the_schema_says_what_the_api_checks():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = schema["paths"]["/api/v1/loans/{loan_id}/autopay/"]
    assert set(operations) >= {"get", "post", "delete"}
    components = schema["components"]["schemas"]
    body = components["AutopayEnrolInputRequest"]
    assert body["properties"]["routing_number"]["pattern"] == "^[0-9]{9}$"
    assert body["properties"]["account_number"]["pattern"] == "^[0-9]{4,17}$"
    authorized = body["properties"]["authorized"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert components[authorized] == {"type": "boolean", "enum": [True]}
    assert set(body["required"]) == {"account_number", "routing_number", "authorized"}
    for method in ("post", "delete"):
        names = [p["name"] for p in operations[method]["parameters"]]
        assert "Idempotency-Key" in names
    # a cancel answers 200 with the cancelled enrolment: documented so (schemathesis' ST103
    # found it documented as a bodiless 204)
    assert set(operations["delete"]["responses"]) & {"200", "204"} == {"200"}
    assert operations["delete"]["responses"]["200"]["content"]
    assert "201" in operations["post"]["responses"]
