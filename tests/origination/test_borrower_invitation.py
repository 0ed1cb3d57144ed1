"""Invitations: staff link an existing borrower only through an invitation the borrower
accepts (issue 10, point 1)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from lendcore.accounts.services import borrower_create_without_login
from lendcore.core.models import AuditEvent
from origination import services
from origination.errors import Conflict, NotFound
from origination.models import Applicant, Application, AuditEntry, BorrowerInvitation

from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def invited(loan_officer, borrower, make_application, django_capture_on_commit_callbacks):
    """A staff-made applicant naming `borrower` (typed with another address), and its draft."""
    with django_capture_on_commit_callbacks(execute=True):
        applicant = ApplicantFactory(
            last4="9999", acting_user=loan_officer, invite_borrower=borrower, email="x@evil.test"
        )
    application = make_application(applicant=applicant)
    return Application.objects.get(pk=application.pk)


def _token_from_mail() -> str:
    (message,) = [m for m in mail.outbox if "in your name" in m.subject]
    return re.search(r"/apply/invitations/t/([^/\s]+)/", message.body).group(1)


def test_staff_naming_a_borrower_invite_them_at_their_verified_address(invited, borrower):
    invitation = BorrowerInvitation.objects.get()
    applicant = invited.applicant
    # Not linked; the applicant's contact is the borrower's own address, not the typed one
    assert applicant.borrower_id is None
    assert applicant.email == borrower.user.email == invitation.email
    assert invitation.status == "pending"
    assert invitation.expires_at > timezone.now() + timedelta(days=13)
    # The e-mail went to the verified address; only the token's hash is stored
    token = _token_from_mail()
    assert mail.outbox[-1].to == [borrower.user.email]
    assert token not in invitation.token_hash
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert AuditEntry.objects.filter(action="borrower_invited", applicant=applicant).exists()
    assert AuditEvent.objects.filter(action="borrower_invited").exists()


def test_a_borrower_without_a_verified_address_cannot_be_invited(loan_officer, roles):
    branch = borrower_create_without_login(first_name="Al", last_name="Bee", email="al@x.test")
    with pytest.raises(Conflict) as excinfo:
        ApplicantFactory(last4="9999", acting_user=loan_officer, invite_borrower=branch)
    assert excinfo.value.code == "borrower_no_verified_email"
    assert not Applicant.objects.exists()
    assert not BorrowerInvitation.objects.exists()


def test_staff_cannot_link_an_existing_borrower_directly(loan_officer, borrower):
    with pytest.raises(Conflict):
        ApplicantFactory(last4="9999", acting_user=loan_officer, borrower=borrower)
    assert not Applicant.objects.exists()


def test_nothing_goes_ahead_until_the_borrower_accepts(
    invited, borrower, loan_officer, django_capture_on_commit_callbacks
):
    with pytest.raises(Conflict) as excinfo:
        services.application_submit(application=invited, acting_user=loan_officer)
    assert excinfo.value.code == "borrower_invitation_pending"
    assert excinfo.value.http_status == 409
    # When the borrower accepts
    invitation = BorrowerInvitation.objects.get()
    services.borrower_invitation_accept(invitation=invitation, acting_user=borrower.user)
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.decided_at is not None
    assert Applicant.objects.get().borrower_id == borrower.pk
    # Then it can be submitted, and the borrower sees it
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(application=invited, acting_user=loan_officer)
    assert Application.objects.get().status == "approved"
    listed = client_for(borrower.user).get("/api/v1/applications/").json()
    assert [a["id"] for a in listed["results"]] == [invited.pk]


def test_only_the_invited_borrower_can_answer(invited, other_borrower, loan_officer):
    invitation = BorrowerInvitation.objects.get()
    for user in (other_borrower.user, loan_officer):
        with pytest.raises(NotFound):
            services.borrower_invitation_accept(invitation=invitation, acting_user=user)
    assert BorrowerInvitation.objects.get().status == "pending"
    assert Applicant.objects.get().borrower_id is None


def test_declining_withdraws_the_drafts_and_blocks_the_applicant(invited, borrower, loan_officer):
    invitation = BorrowerInvitation.objects.get()
    services.borrower_invitation_decline(invitation=invitation, acting_user=borrower.user)
    assert BorrowerInvitation.objects.get().status == "declined"
    assert Application.objects.get().status == "withdrawn"
    assert Applicant.objects.get().borrower_id is None
    other = services.application_create(
        acting_user=loan_officer,
        applicant=invited.applicant,
        product=invited.product,
        amount=invited.amount,
        term=invited.term,
        frequency=invited.frequency,
        channel="staff",
    )
    with pytest.raises(Conflict) as excinfo:
        services.application_submit(application=other, acting_user=loan_officer)
    assert excinfo.value.code == "borrower_invitation_closed"
    # Answering twice is a conflict
    with pytest.raises(Conflict):
        services.borrower_invitation_accept(invitation=invitation, acting_user=borrower.user)


def test_an_expired_invitation_cannot_be_accepted(invited, borrower):
    BorrowerInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    invitation = BorrowerInvitation.objects.get()
    with pytest.raises(Conflict):
        services.borrower_invitation_accept(invitation=invitation, acting_user=borrower.user)
    assert BorrowerInvitation.objects.get().status == "expired"
    assert Applicant.objects.get().borrower_id is None


def test_api_borrower_that_does_not_exist_is_400(loan_officer):
    response = client_for(loan_officer).post(
        "/api/v1/applicants/",
        {
            "first_name": "A",
            "last_name": "B",
            "date_of_birth": "1980-01-01",
            "ssn": "123456789",
            "email": "a@b.test",
            "address_line1": "1 St",
            "city": "C",
            "state": "IL",
            "postal_code": "60601",
            "monthly_income": "5000.00",
            "borrower": 999999,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "borrower" in response.json()["extra"]["fields"]


def test_api_new_borrower_body_is_unchanged(loan_officer):
    # The request body of a new borrower (no `borrower`) works as before: no invitation
    response = client_for(loan_officer).post(
        "/api/v1/applicants/",
        {
            "first_name": "New",
            "last_name": "Person",
            "date_of_birth": "1980-01-01",
            "ssn": "123456789",
            "email": "new@person.test",
            "address_line1": "1 St",
            "city": "C",
            "state": "IL",
            "postal_code": "60601",
            "monthly_income": "5000.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["invitation"] is None
    assert response.json()["email"] == "new@person.test"


# --- accept on behalf ---------------------------------------------------------------------------


def test_api_accept_on_behalf_is_409_without_the_permission(decided, loan_officer):
    application = decided("9999")
    response = client_for(loan_officer).post(
        f"/api/v1/applications/{application.pk}/accept-offer/",
        {"signature_name": "Pat Tester"},
        format="json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "accept_on_behalf_not_allowed"
    assert Application.objects.get(pk=application.pk).status == "approved"


def test_api_accept_on_behalf_with_the_permission_is_audited_and_noticed_to_the_borrower(
    decided, admin_user, borrower, django_capture_on_commit_callbacks
):
    # Given a borrower's own application (linked), accepted by an admin on their behalf
    applicant = ApplicantFactory(
        last4="9999", borrower=borrower, acting_user=borrower.user, email="typed@else.test"
    )
    application = decided(applicant=applicant)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(
            f"/api/v1/applications/{application.pk}/accept-offer/",
            {"signature_name": "Carol Clark"},
            format="json",
            REMOTE_ADDR="198.51.100.9",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["offer"]["accepted_on_behalf"] is True
    entry = AuditEntry.objects.get(action="offer_accepted_on_behalf")
    assert entry.actor == admin_user
    assert entry.detail["notice_to"] == borrower.user.email
    assert AuditEvent.objects.filter(action="offer_accepted_on_behalf").exists()
    (notice,) = [m for m in mail.outbox if m.subject.startswith("You accepted")]
    assert notice.to == [borrower.user.email]


def test_loan_officer_role_does_not_hold_accept_on_behalf(loan_officer, admin_user):
    assert not loan_officer.has_perm("accounts.accept_on_behalf")
    assert admin_user.has_perm("accounts.accept_on_behalf")


@pytest.mark.usefixtures("invited")
def test_the_invitation_link_is_absolute_at_the_site_url(settings):
    # SITE_URL is read when the e-mail is rendered: the fixture's e-mail used the test default
    (message,) = [m for m in mail.outbox if "in your name" in m.subject]
    assert f"{settings.SITE_URL}/apply/invitations/t/" in message.body
    assert settings.SITE_URL.startswith("http")


def test_the_invitation_lasts_the_configured_days(settings, loan_officer, borrower):
    settings.BORROWER_INVITATION_DAYS = 3
    ApplicantFactory(last4="9999", acting_user=loan_officer, invite_borrower=borrower)
    invitation = BorrowerInvitation.objects.get()
    assert timedelta(days=2) < invitation.expires_at - timezone.now() <= timedelta(days=3)
