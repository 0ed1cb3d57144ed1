"""Origination's tasks delivered twice (a worker died before its ack): one e-mail to the
applicant, one invitation, one adverse-action notice, one decision. An applicant's e-mail has
no state of its own to check, so its task keeps a receipt under its task id
(lendcore.core.receipts); a new message for the same event is a new e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from lendcore.core.models import TaskReceipt
from lendcore.core.receipts import receipts_expired_delete
from origination import notifications, services
from origination.models import Application, Decision, Document
from origination.tasks import (
    adverse_action_notice_task,
    application_decide_task,
    invitation_send_task,
    notification_send_task,
)
from tests.origination.factories import ApplicantFactory, ApplicationFactory

from .redelivery import deliver_twice

pytestmark = pytest.mark.django_db


class RefusingBackend:
    """An SMTP server that is down: every send raises, as smtplib's does."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")


@pytest.fixture
def declined(loan_officer, django_capture_on_commit_callbacks) -> Application:
    """Submitted with the sandbox bureau's declining SSN: decided, notice and e-mail sent."""
    applicant = ApplicantFactory(last4="1111", acting_user=loan_officer)
    application = ApplicationFactory(
        applicant=applicant, with_documents=True, acting_user=loan_officer
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(application=application, acting_user=loan_officer)
    application.refresh_from_db()
    assert application.status == "declined"
    return application


def test_an_applicant_email_delivered_twice_is_sent_once(declined):
    # Given a declined application (its own e-mails already out)
    mail.outbox.clear()

    # When the "submitted" e-mail's message is delivered, then delivered again
    first, second = deliver_twice(notification_send_task, declined.pk, "submitted")

    # Then one e-mail went out; the redelivery found the receipt
    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [declined.applicant.email]
    # and a new message for the same event (asked again) is a new e-mail
    assert notification_send_task.apply(args=(declined.pk, "submitted")).get() is True
    assert len(mail.outbox) == 2


def test_a_send_that_failed_leaves_no_receipt_so_the_retry_sends(declined):
    mail.outbox.clear()
    with (
        override_settings(EMAIL_BACKEND=f"{__name__}.RefusingBackend"),
        pytest.raises(ConnectionRefusedError),
    ):
        notifications.notification_send(
            application_id=declined.pk, event="submitted", delivery_id="retry-me"
        )
    assert not TaskReceipt.objects.filter(key__endswith=":retry-me").exists()
    # the retry keeps the task id: now the server answers and the e-mail goes out, once
    assert notifications.notification_send(
        application_id=declined.pk, event="submitted", delivery_id="retry-me"
    )
    assert len(mail.outbox) == 1
    assert TaskReceipt.objects.filter(key__endswith=":retry-me").count() == 1


def test_an_invitation_delivered_twice_is_sent_once(
    loan_officer, borrower, django_capture_on_commit_callbacks
):
    # Given staff inviting an existing borrower (the invitation e-mail went out on commit)
    with django_capture_on_commit_callbacks(execute=True):
        applicant = ApplicantFactory(acting_user=loan_officer, invite_borrower=borrower)
    invitation = applicant.invitations.get()
    mail.outbox.clear()

    # When its message is delivered twice
    first, second = deliver_twice(invitation_send_task, invitation.pk, "a-token")

    # Then the borrower got one invitation
    assert (first, second) == (True, False)
    assert [m.to for m in mail.outbox] == [[borrower.user.email]]


def test_the_adverse_action_notice_and_the_decision_delivered_twice_exist_once(declined):
    mail.outbox.clear()
    notices = Document.objects.filter(application=declined, doc_type="adverse_action_notice")
    assert notices.count() == 1

    first, second = deliver_twice(adverse_action_notice_task, declined.pk)
    assert first == second == notices.get().pk
    assert notices.count() == 1

    decided, again = deliver_twice(application_decide_task, declined.pk)
    assert decided == again == "declined"
    assert Decision.objects.filter(application=declined).count() == 1
    assert mail.outbox == []  # neither sent the decline e-mail again


def test_receipts_are_purged_after_the_key_lifetime(declined, settings):
    deliver_twice(notification_send_task, declined.pk, "submitted")
    kept = TaskReceipt.objects.count()
    assert kept >= 1
    assert receipts_expired_delete() == 0
    later = timezone.now() + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, minutes=1)
    assert receipts_expired_delete(now=later) == kept
    assert not TaskReceipt.objects.exists()
