"""application_submit: required documents, once only, notifications after commit."""

from __future__ import annotations

import pytest
from django.core import mail

from origination import services
from origination.errors import InvalidTransition, MissingDocuments
from origination.models import Application

pytestmark = pytest.mark.django_db


def test_submitting_without_required_documents_names_the_missing_types(
    make_application, loan_officer
):
    application = make_application(with_documents=False)
    with pytest.raises(MissingDocuments) as excinfo:
        services.application_submit(application=application, acting_user=loan_officer)
    assert excinfo.value.http_status == 409
    assert excinfo.value.extra["missing"] == ["id_proof", "proof_of_income"]
    application.refresh_from_db()
    assert application.status == "draft"
    assert application.events.count() == 1


def test_submit_sends_the_e_mail_after_commit_and_decides(
    make_application, loan_officer, django_capture_on_commit_callbacks
):
    application = make_application()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.application_submit(application=application, acting_user=loan_officer)
    assert mail.outbox == []  # nothing before commit
    application.refresh_from_db()
    assert application.status == "submitted"
    for callback in callbacks:
        callback()
    subjects = [m.subject for m in mail.outbox]
    assert any("We received your application" in s for s in subjects)
    assert Application.objects.get(pk=application.pk).status == "approved"
    message = next(m for m in mail.outbox if "received" in m.subject)
    assert message.alternatives
    assert message.alternatives[0][1] == "text/html"


def test_submitting_twice_is_409_and_changes_nothing(decided, loan_officer):
    application = decided("9999")
    events = application.events.count()
    with pytest.raises(InvalidTransition):
        services.application_submit(application=application, acting_user=loan_officer)
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.events.count() == events
