"""E-mails on submission, decision, offer, acceptance and disbursement; HTML and text."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from origination import services
from origination.models import Application

pytestmark = pytest.mark.django_db


def test_every_stage_sends_an_e_mail_after_commit(
    accepted, borrower, loan_officer, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        application = accepted()
    with django_capture_on_commit_callbacks(execute=True):
        services.application_disburse(
            application=application, acting_user=loan_officer, method="ach", reference="A-1"
        )
    subjects = [m.subject.split(" (")[0] for m in mail.outbox]
    for expected in (
        "We received your application",
        "Your application is approved",
        "Your loan offer is ready",
        "You accepted your loan offer",
        "Your loan has been disbursed",
    ):
        assert expected in subjects
    for message in mail.outbox:
        # The borrower's verified address (their login's), not what was typed on the applicant
        assert message.to == [borrower.user.email]
        assert message.alternatives[0][1] == "text/html"
        assert "&lt;" not in message.body


def test_a_rolled_back_action_sends_nothing(
    decided, borrower, borrower_applicant, django_capture_on_commit_callbacks
):
    application = decided(applicant=borrower_applicant)
    mail.outbox.clear()

    def accept_then_roll_back():
        # The acceptance succeeds (and queues its e-mail), then its transaction rolls back.
        with transaction.atomic():
            accepted = services.offer_accept(
                application=application,
                acting_user=borrower.user,
                signature_name="Pat Borrower",
                ip_address=None,
            )
            assert accepted.status == Application.Status.OFFER_ACCEPTED
            raise _RolledBack

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(_RolledBack),
    ):
        accept_then_roll_back()
    assert callbacks == []
    assert mail.outbox == []
    application.refresh_from_db()
    assert application.status != Application.Status.OFFER_ACCEPTED


class _RolledBack(Exception):
    pass
