"""The disbursement account: recorded on the application (encrypted, shown masked), signed
for by the borrower, the only place `disburse` pays to; a change after acceptance needs the
borrower to accept again (issue 10, point 1)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from origination import services
from origination.errors import Conflict, InvalidTransition, ValidationFailed
from origination.models import Application, Offer
from servicing.models import Loan

pytestmark = pytest.mark.django_db

ACCOUNT = "000111222333"  # the factories' account


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_the_account_is_stored_encrypted_and_shown_masked(make_application, loan_officer):
    application = make_application("9999")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT disbursement_account_encrypted, disbursement_account_last4 "
            "FROM origination_application WHERE id = %s",
            [application.pk],
        )
        stored, last4 = cursor.fetchone()
    assert ACCOUNT not in stored
    assert last4 == "2333"
    assert services.disbursement_account_normalize(" 0001-1122 2333 ") == ACCOUNT
    body = client_for(loan_officer).get(f"/api/v1/applications/{application.pk}/")
    assert body.json()["disbursement_account"] == "••••2333"
    assert ACCOUNT not in body.content.decode()


@pytest.mark.parametrize("bad", ["12", "not an account!", "1" * 35])
def test_a_bad_account_is_400_naming_the_field(make_application, loan_officer, bad):
    application = make_application("9999")
    response = client_for(loan_officer).post(
        f"/api/v1/applications/{application.pk}/disbursement-account/",
        {"account": bad},
        format="json",
    )
    assert response.status_code == 400
    assert "account" in str(response.json()["extra"]["fields"])


def test_staff_set_it_before_the_offer_only(make_application, decided, loan_officer):
    draft = make_application("9999", disbursement_account=None)
    response = client_for(loan_officer).post(
        f"/api/v1/applications/{draft.pk}/disbursement-account/",
        {"account": "4400 5566"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["disbursement_account"] == "••••5566"
    approved = decided("9999")
    with pytest.raises(Conflict) as excinfo:
        services.application_disbursement_account_set(
            application=approved, account="99998888", acting_user=loan_officer
        )
    assert excinfo.value.code == "disbursement_account_locked"
    assert Application.objects.get(pk=approved.pk).disbursement_account_last4 == "2333"


def test_accepting_needs_an_account(decided, borrower_applicant, borrower):
    application = decided(applicant=borrower_applicant, disbursement_account=None)
    with pytest.raises(ValidationFailed) as excinfo:
        services.offer_accept(
            application=application,
            acting_user=borrower.user,
            signature_name="Carol Clark",
            ip_address=None,
        )
    assert "disbursement_account" in excinfo.value.extra["fields"]
    assert Offer.objects.get().status == "open"


def test_a_change_after_acceptance_reopens_the_offer_for_the_borrower(
    accepted, borrower, loan_officer
):
    application = accepted()
    # When the borrower changes the account after accepting
    services.application_disbursement_account_set(
        application=application, account="7777666655554444", acting_user=borrower.user
    )
    # Then the acceptance is undone: the offer is open again, unsigned
    application.refresh_from_db()
    offer = application.offer
    assert application.status == "approved"
    assert application.disbursement_account_last4 == "4444"
    assert (offer.status, offer.signature_name, offer.accepted_at) == ("open", "", None)
    assert application.events.order_by("-id").first().reason.startswith("disbursement account")
    # And nothing can be disbursed until the borrower accepts again
    with pytest.raises(InvalidTransition) as excinfo:
        services.application_disburse(
            application=application, acting_user=loan_officer, method="ach", reference="A-1"
        )
    assert excinfo.value.http_status == 409
    services.offer_accept(
        application=application, acting_user=borrower.user, signature_name="Carol", ip_address=None
    )
    assert Application.objects.get(pk=application.pk).status == "offer_accepted"


def test_staff_cannot_change_it_after_acceptance(accepted, loan_officer):
    application = accepted()
    with pytest.raises(Conflict):
        services.application_disbursement_account_set(
            application=application, account="99998888", acting_user=loan_officer
        )
    assert Application.objects.get(pk=application.pk).status == "offer_accepted"


def test_disburse_pays_the_recorded_account_and_refuses_another(
    accepted, loan_officer, django_capture_on_commit_callbacks
):
    application = accepted()
    officer = client_for(loan_officer)
    url = f"/api/v1/applications/{application.pk}/disburse/"
    # An account in the body that is not the recorded one: 409, nothing disbursed
    refused = officer.post(
        url,
        {"method": "ach", "reference": "ACH-9", "account": "123412341234"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="d-1",
    )
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "disbursement_account_mismatch"
    assert not Loan.objects.exists()
    # The recorded account (or none given): paid, the notice shows it masked
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ok = officer.post(
            url,
            {"method": "ach", "reference": "ACH-9", "account": "0001-1122-2333"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="d-2",
        )
    assert ok.status_code == 200, ok.json()
    assert Loan.objects.count() == 1
    last = Application.objects.get(pk=application.pk).events.order_by("-id").first()
    assert "••••2333" in last.reason
    (notice,) = [m for m in mail.outbox if "disbursed" in m.subject]
    assert "••••2333" in notice.body
    assert ACCOUNT not in notice.body
    assert "••••2333" in notice.alternatives[0][0]


def test_an_accepted_application_without_an_account_is_not_disbursed(accepted, loan_officer):
    # An acceptance recorded before accounts were kept: the borrower must enter one first
    application = accepted()
    Application.objects.filter(pk=application.pk).update(
        disbursement_account_encrypted="", disbursement_account_last4=""
    )
    with pytest.raises(Conflict) as excinfo:
        services.application_disburse(
            application=application, acting_user=loan_officer, method="ach", reference="A-1"
        )
    assert excinfo.value.code == "disbursement_account_missing"
    assert not Loan.objects.exists()


def test_the_offer_e_mail_shows_the_masked_account(
    decided, borrower_applicant, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    decided(applicant=borrower_applicant)
    (offer_mail,) = [m for m in mail.outbox if m.subject.startswith("Your loan offer")]
    assert "••••2333" in offer_mail.body
    assert ACCOUNT not in offer_mail.body
