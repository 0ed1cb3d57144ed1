"""Borrowers read the outcome of their decision and its reasons, never the rule trace,
thresholds, score or bureau data (issue 10, point 12); staff read it all."""

from __future__ import annotations

import pytest

from origination.api.views.applications import STAFF_ONLY_DECISION_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def declined(decided, borrower_applicant):
    return decided(applicant=borrower_applicant)


def _as(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_a_borrower_reads_the_outcome_and_the_reasons_only(api_client, declined):
    client = _as(api_client, declined.applicant.borrower.user)
    for url in (
        f"/api/v1/applications/{declined.pk}/decision/",
        f"/api/v1/applications/{declined.pk}/",
    ):
        body = client.get(url).json()
        decision = body.get("decision", body)
        assert decision["outcome"]
        assert "reasons" in decision
        assert not set(STAFF_ONLY_DECISION_FIELDS) & set(decision), url


def test_staff_read_the_whole_decision(api_client, underwriter, declined):
    decision = _as(api_client, underwriter).get(f"/api/v1/applications/{declined.pk}/decision/")
    assert set(STAFF_ONLY_DECISION_FIELDS) <= set(decision.json())
    assert decision.json()["rules"]
