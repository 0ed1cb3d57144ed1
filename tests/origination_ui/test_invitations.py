"""The portal side of issue 10 point 1: the borrower sees the invitations to applications
staff started in their name and accepts or declines them; the offer shows (and lets the
borrower change) the account the loan is paid to."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from origination.models import Applicant, Application, BorrowerInvitation, Offer
from tests.origination.factories import ApplicantFactory

pytestmark = pytest.mark.django_db

APPLY = reverse("origination:portal-apply")


@pytest.fixture
def invited(loan_officer, borrower, make_application, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        applicant = ApplicantFactory(
            last4="9999", acting_user=loan_officer, invite_borrower=borrower
        )
    return make_application(applicant=applicant, amount=Decimal("12345.00"))


def inv_url(name: str, invitation) -> str:
    return reverse(f"origination:portal-invitation{name}", args=[invitation.pk])


def test_the_borrower_sees_and_accepts_the_invitation(client_for, borrower, invited):
    client = client_for(borrower.user)
    invitation = BorrowerInvitation.objects.get()
    # The applications page lists it, with the amount, before it is theirs
    page = client.get(APPLY).content.decode()
    assert "Applications waiting for you" in page
    assert "12,345" in page
    assert inv_url("", invitation) in page
    detail = client.get(inv_url("", invitation))
    assert detail.status_code == 200
    assert "Accept: this is my application" in detail.content.decode()
    # When they accept
    response = client.post(inv_url("-accept", invitation))
    assert response.status_code == 302
    assert BorrowerInvitation.objects.get().status == "accepted"
    assert Applicant.objects.get().borrower_id == borrower.pk
    # Then the application is theirs, and the invitation is no longer waiting
    page = client.get(APPLY).content.decode()
    assert "Applications waiting for you" not in page
    assert reverse("origination:portal-application", args=[invited.pk]) in page


def test_the_borrower_declines(client_for, borrower, invited):
    client = client_for(borrower.user)
    invitation = BorrowerInvitation.objects.get()
    assert client.post(inv_url("-decline", invitation)).status_code == 302
    assert BorrowerInvitation.objects.get().status == "declined"
    assert Application.objects.get().status == "withdrawn"
    # Answering again shows the conflict on the page
    again = client.post(inv_url("-accept", invitation))
    assert again.status_code == 409
    assert "already declined" in again.content.decode()


def test_another_borrower_and_staff_cannot_see_or_answer_it(
    client_for, other_borrower, loan_officer, invited
):
    invitation = BorrowerInvitation.objects.get()
    other = client_for(other_borrower.user)
    assert other.get(inv_url("", invitation)).status_code == 404
    assert other.post(inv_url("-accept", invitation)).status_code == 404
    assert "Applications waiting for you" not in other.get(APPLY).content.decode()
    assert client_for(loan_officer).post(inv_url("-accept", invitation)).status_code == 403
    assert BorrowerInvitation.objects.get().status == "pending"


def test_the_e_mailed_link_opens_the_invitation_of_its_borrower_only(
    client_for, borrower, other_borrower, invited
):
    (message,) = [m for m in mail.outbox if "in your name" in m.subject]
    path = re.search(r"(/apply/invitations/t/[^/\s]+/)", message.body).group(1)
    response = client_for(borrower.user).get(path)
    assert response.status_code == 302
    assert response["Location"] == inv_url("", BorrowerInvitation.objects.get())
    assert client_for(other_borrower.user).get(path).status_code == 404
    assert client_for(borrower.user).get("/apply/invitations/t/not-a-token/").status_code == 404


def test_the_offer_shows_the_masked_account_and_a_change_needs_a_new_acceptance(
    client_for, borrower, accepted
):
    application = accepted()
    client = client_for(borrower.user)
    offer_url = reverse("origination:portal-offer", args=[application.pk])
    page = client.get(offer_url).content.decode()
    assert "••••2333" in page
    assert "000111222333" not in page
    # A bad account: 400 on the field, nothing changes
    bad = client.post(
        reverse("origination:portal-disbursement-account", args=[application.pk]),
        {"account": "x"},
    )
    assert bad.status_code == 400
    assert "4 to 34 letters or digits" in bad.content.decode()
    # A new account after acceptance reopens the offer
    response = client.post(
        reverse("origination:portal-disbursement-account", args=[application.pk]),
        {"account": "5555 4444 3333 9876"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert Offer.objects.get(application=application).status == "open"
    page = client.get(offer_url).content.decode()
    assert "••••9876" in page
    assert 'data-action="accept"' in page


def test_staff_record_the_account_before_the_offer_only(
    client_for, loan_officer, make_application, decided
):
    client = client_for(loan_officer)
    draft = make_application("9999", disbursement_account=None)
    url = reverse("origination:staff-disbursement-account", args=[draft.pk])
    page = client.get(reverse("origination:staff-application", args=[draft.pk])).content.decode()
    assert 'data-action="set-account"' in page
    assert client.post(url, {"account": "??"}).status_code == 400
    response = client.post(url, {"account": "1234 5678 9012"})
    assert response.status_code == 302
    assert Application.objects.get(pk=draft.pk).disbursement_account_last4 == "9012"
    # Once the offer is made staff cannot change it
    approved = decided("9999")
    late = client.post(
        reverse("origination:staff-disbursement-account", args=[approved.pk]),
        {"account": "99998888"},
    )
    assert late.status_code == 409
    assert "only the borrower" in late.content.decode()
    assert Application.objects.get(pk=approved.pk).disbursement_account_last4 == "2333"
