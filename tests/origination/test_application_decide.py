"""application_decide: identity, bureau and the active rule set; the documented sandbox table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from origination import selectors, services
from origination.errors import BureauUnavailable
from origination.models import Application, BureauReport, Document

pytestmark = pytest.mark.django_db


def test_documented_example_approves_with_9999(decided):
    # Given 8,000 income, 1,500 housing, 10,000 over 36 months, SSN ending 9999
    application = decided("9999")
    # Then it is approved with an offer at the tier rate
    assert application.status == Application.Status.APPROVED
    decision = application.decisions.get()
    assert decision.outcome == "approve"
    assert decision.score == 790
    assert decision.reasons == []
    assert Decimal("0.25") < decision.dti < Decimal("0.30")
    assert decision.offered_rate == Decimal("8.99")
    assert all(rule["passed"] for rule in decision.rules)
    assert application.offer.amount == Decimal("10000.00")


def test_documented_example_refers_with_5555(decided):
    application = decided("5555")
    assert application.status == Application.Status.REFERRED
    decision = application.decisions.get()
    assert decision.score == 650
    assert [r["code"] for r in decision.reasons] == ["SCORE_BELOW_AUTO_APPROVAL"]
    failed = [r for r in decision.rules if not r["passed"]]
    assert [r["reason_code"] for r in failed] == ["SCORE_BELOW_AUTO_APPROVAL"]


def test_documented_example_declines_with_1111_and_an_adverse_action_pdf(decided):
    mail.outbox.clear()
    application = decided("1111")
    assert application.status == Application.Status.DECLINED
    decision = application.decisions.get()
    assert decision.score == 520
    assert decision.reasons == [
        {"code": "CREDIT_SCORE_TOO_LOW", "text": "Credit score below our minimum requirement"}
    ]
    notice = application.documents.get(doc_type=Document.DocType.ADVERSE_ACTION_NOTICE)
    with services.document_open(document=notice) as fh:
        assert fh.read(5) == b"%PDF-"
    declined_mail = [m for m in mail.outbox if "About your application" in m.subject]
    assert len(declined_mail) == 1
    assert declined_mail[0].attachments[0][2] == "application/pdf"


def test_no_file_refers(decided):
    application = decided("0000")
    assert application.status == Application.Status.REFERRED
    decision = application.decisions.get()
    assert decision.score is None
    assert [r["code"] for r in decision.reasons] == ["NO_CREDIT_FILE"]


def test_other_ssn_scores_600_plus_last_four_mod_200(decided):
    application = decided("1234")  # 600 + 1234 % 200 = 634 -> refer
    assert application.decisions.get().score == 634
    assert application.status == Application.Status.REFERRED


def test_identity_fraud_declines_and_review_refers(decided):
    from .factories import ApplicantFactory

    fraud = decided(applicant=ApplicantFactory(last4="9999", last_name="Fraud"))
    review = decided(applicant=ApplicantFactory(last4="9999", last_name="Review"))
    assert fraud.status == Application.Status.DECLINED
    assert fraud.decisions.get().reasons[0]["code"] == "IDENTITY_NOT_VERIFIED"
    assert review.status == Application.Status.REFERRED
    assert review.decisions.get().reasons[0]["code"] == "IDENTITY_REVIEW"


def test_high_dti_declines(decided):
    from .factories import ApplicantFactory

    poor = ApplicantFactory(last4="9999", monthly_income=Decimal("2500.00"))
    application = decided(applicant=poor)
    assert application.status == Application.Status.DECLINED
    assert "EXCESSIVE_OBLIGATIONS" in [r["code"] for r in application.decisions.get().reasons]


def test_bankruptcy_declines(decided, monkeypatch):
    from origination.adapters import bureau

    original = bureau.SandboxBureau.pull

    def with_bankruptcy(self, subject):
        result = original(self, subject)
        raw = {**result.raw, "bankruptcies": 1}
        return bureau.result_from_payload(self.name, raw)

    monkeypatch.setattr(bureau.SandboxBureau, "pull", with_bankruptcy)
    application = decided("9999")
    assert application.status == Application.Status.DECLINED
    assert [r["code"] for r in application.decisions.get().reasons] == ["BANKRUPTCY"]


def test_bureau_report_is_reused_for_30_days(decided, make_applicant):
    applicant = make_applicant("9999")
    decided(applicant=applicant)
    decided(applicant=applicant)
    assert BureauReport.objects.filter(applicant=applicant).count() == 1


def test_bureau_down_keeps_in_review_and_retries(decided, monkeypatch):
    from origination.adapters import bureau

    calls = []

    def down(self, subject):
        calls.append(1)
        raise BureauUnavailable("down")

    monkeypatch.setattr(bureau.SandboxBureau, "pull", down)
    application = decided("9999")
    assert application.status == Application.Status.IN_REVIEW
    assert application.status_reason == "bureau_unavailable"
    assert application.decisions.count() == 0
    assert len(calls) == 3  # the first try and BUREAU_RETRY_MAX=2 retries (eager)

    # When the bureau is back, the periodic sweep decides it
    monkeypatch.undo()
    from origination.tasks import decisions_retry_waiting_task

    assert decisions_retry_waiting_task() == 1
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.status_reason == ""


def test_replay_of_a_decided_application_changes_nothing(decided):
    application = decided("9999")
    again = services.application_decide(application_id=application.pk)
    assert again.status == Application.Status.APPROVED
    assert application.decisions.count() == 1


def test_decision_is_reproducible_from_stored_inputs(decided):
    application = decided("5555")
    decision = application.decisions.get()
    evaluation = selectors.decision_reproduce(decision=decision)
    assert evaluation.outcome == decision.outcome
    assert evaluation.trace == decision.rules
    assert evaluation.reasons == decision.reasons
