"""The model predicates the UI guards use agree with the transition tables."""

from __future__ import annotations

import pytest

from origination.models import Application, Document, Offer, RuleSet

S = Application.Status


@pytest.mark.parametrize("status", S.values)
def test_application_predicates(status):
    application = Application(status=status)
    assert application.can_submit() == (status == S.DRAFT)
    assert application.can_withdraw() == (S.WITHDRAWN in Application.TRANSITIONS[status])
    assert application.can_underwrite() == (status == S.REFERRED)
    assert application.can_accept_offer() == (status == S.APPROVED)
    assert application.can_disburse() == (status == S.OFFER_ACCEPTED)
    assert application.accepts_documents() == (
        status in (S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.REFERRED, S.APPROVED)
    )


@pytest.mark.parametrize(
    ("status", "reviewable", "accept", "reject"),
    [
        ("pending", True, True, True),
        ("accepted", True, False, True),
        ("rejected", True, True, False),
        ("superseded", False, False, False),
    ],
)
def test_document_predicates(status, reviewable, accept, reject):
    document = Document(status=status)
    assert (document.is_reviewable(), document.can_accept(), document.can_reject()) == (
        reviewable,
        accept,
        reject,
    )


@pytest.mark.parametrize(
    ("status", "expected"), [("draft", True), ("active", False), ("retired", True)]
)
def test_rule_set_can_activate(status, expected):
    assert RuleSet(status=status).can_activate() is expected


def test_offer_is_open():
    assert Offer(status="open").is_open()
    assert not Offer(status="accepted").is_open()
