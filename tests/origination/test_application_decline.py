"""application_decline (underwriter) and application_withdraw."""

from __future__ import annotations

import pytest

from origination import selectors, services
from origination.errors import InvalidTransition, ValidationFailed
from origination.models import Application, Document

pytestmark = pytest.mark.django_db


def test_underwriter_declines_with_reasons_and_a_notice(
    decided, underwriter, django_capture_on_commit_callbacks
):
    application = decided("5555")
    with django_capture_on_commit_callbacks(execute=True):
        result = services.application_decline(
            application=application,
            acting_user=underwriter,
            reasons=[
                {
                    "code": "INCOME_INSUFFICIENT",
                    "text": "Income insufficient for amount of credit requested",
                }
            ],
        )
    assert result.status == Application.Status.DECLINED
    assert (
        application.documents.filter(doc_type=Document.DocType.ADVERSE_ACTION_NOTICE).count() == 1
    )
    assert selectors.application_decline_reasons(result)[0]["code"] == "INCOME_INSUFFICIENT"


def test_decline_needs_a_reason(decided, underwriter):
    application = decided("5555")
    with pytest.raises(ValidationFailed):
        services.application_decline(application=application, acting_user=underwriter, reasons=[])
    application.refresh_from_db()
    assert application.status == Application.Status.REFERRED


def test_declining_an_approved_application_is_409(decided, underwriter):
    application = decided("9999")
    with pytest.raises(InvalidTransition):
        services.application_decline(
            application=application, acting_user=underwriter, reasons=["Other"]
        )
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_withdraw_before_disbursement(decided, loan_officer):
    application = decided("9999")
    result = services.application_withdraw(application=application, acting_user=loan_officer)
    assert result.status == Application.Status.WITHDRAWN
    assert result.offer.status == "withdrawn"
    with pytest.raises(InvalidTransition):
        services.application_withdraw(application=application, acting_user=loan_officer)


def test_withdraw_after_disbursement_is_409(accepted, loan_officer):
    application = accepted()
    services.application_disburse(
        application=application, acting_user=loan_officer, method="check", reference="CHK-9"
    )
    with pytest.raises(InvalidTransition):
        services.application_withdraw(application=application, acting_user=loan_officer)
    application.refresh_from_db()
    assert application.status == Application.Status.DISBURSED
