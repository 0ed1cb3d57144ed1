"""application_approve: referred only, counter-offers within the product, four-eyes, no self."""

from __future__ import annotations

from decimal import Decimal

import pytest

from origination import selectors, services
from origination.errors import (
    FourEyesViolation,
    InvalidTransition,
    SelfApproval,
    ValidationFailed,
)
from origination.models import Application, AuditEntry

pytestmark = pytest.mark.django_db


def test_underwriter_approves_a_referred_application_with_an_offer(decided, underwriter):
    application = decided("5555")
    result = services.application_approve(application=application, acting_user=underwriter)
    assert result.status == Application.Status.APPROVED
    offer = result.offer
    assert offer.annual_rate == Decimal("17.99")  # the 580-679 tier
    assert offer.amount == Decimal("10000.00")
    assert offer.apr > offer.annual_rate  # the prepaid fee is a finance charge
    assert AuditEntry.objects.filter(action="underwriter_approval").count() == 1


def test_counter_offer_sets_the_offer_terms(decided, underwriter):
    application = decided("5555")
    result = services.application_approve(
        application=application,
        acting_user=underwriter,
        amount=Decimal("8000.00"),
        annual_rate=Decimal("15.5"),
        term=24,
    )
    offer = result.offer
    assert (offer.amount, offer.annual_rate, offer.term) == (
        Decimal("8000.00"),
        Decimal("15.5"),
        24,
    )
    assert len(offer.installments) == 24


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("amount", {"amount": Decimal("60000.00")}),
        ("term", {"term": 6}),
        ("annual_rate", {"annual_rate": Decimal("120")}),
    ],
)
def test_counter_offer_outside_the_product_is_400(decided, underwriter, field, changes):
    application = decided("5555")
    with pytest.raises(ValidationFailed) as excinfo:
        services.application_approve(application=application, acting_user=underwriter, **changes)
    assert field in excinfo.value.extra["fields"]
    application.refresh_from_db()
    assert application.status == Application.Status.REFERRED
    assert not application.underwriter_actions.exists()


def test_approving_a_declined_application_is_409(decided, underwriter):
    application = decided("1111")
    with pytest.raises(InvalidTransition):
        services.application_approve(application=application, acting_user=underwriter)
    application.refresh_from_db()
    assert application.status == Application.Status.DECLINED


def test_self_approval_is_refused(
    make_application, underwriter, django_capture_on_commit_callbacks
):
    application = make_application("5555", acting_user=underwriter)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(application=application, acting_user=underwriter)
    application.refresh_from_db()
    with pytest.raises(SelfApproval) as excinfo:
        services.application_approve(application=application, acting_user=underwriter)
    assert excinfo.value.http_status == 409
    application.refresh_from_db()
    assert application.status == Application.Status.REFERRED
    assert not application.underwriter_actions.exists()


def test_four_eyes_above_the_limit_needs_two_underwriters(decided, underwriter, underwriter2):
    application = decided("5555", amount=Decimal("30000.00"), term=60)
    first = services.application_approve(application=application, acting_user=underwriter)
    assert first.status == Application.Status.REFERRED
    assert first.status_reason == "awaiting_second_approval"
    with pytest.raises(FourEyesViolation):
        services.application_approve(application=application, acting_user=underwriter)
    assert application.underwriter_actions.count() == 1
    second = services.application_approve(application=application, acting_user=underwriter2)
    assert second.status == Application.Status.APPROVED
    assert second.offer.amount == Decimal("30000.00")


def test_a_counter_offer_below_the_limit_needs_one_approval(decided, underwriter):
    application = decided("5555", amount=Decimal("30000.00"), term=60)
    result = services.application_approve(
        application=application, acting_user=underwriter, amount=Decimal("20000.00")
    )
    assert result.status == Application.Status.APPROVED


def test_a_second_approver_confirms_the_first_approvers_terms(decided, underwriter, underwriter2):
    application = decided("5555", amount=Decimal("30000.00"), term=60)
    services.application_approve(
        application=application, acting_user=underwriter, annual_rate=Decimal("17.99")
    )
    second = services.application_approve(
        application=application,
        acting_user=underwriter2,
        amount=Decimal("30000.00"),
        annual_rate=Decimal("17.99"),
    )
    assert second.status == Application.Status.APPROVED
    assert second.offer.annual_rate == Decimal("17.99")


def test_a_second_approver_who_changes_the_terms_starts_the_round_again(
    decided, underwriter, underwriter2
):
    # Issue 10, point 2: the audit's bypass (50,000 at 0 % over the first approver's 30,000)
    application = decided("5555", amount=Decimal("30000.00"), term=60)
    services.application_approve(
        application=application, acting_user=underwriter, annual_rate=Decimal("17.99")
    )
    changed = services.application_approve(
        application=application,
        acting_user=underwriter2,
        amount=Decimal("50000.00"),
        annual_rate=Decimal("0"),
    )
    assert changed.status == Application.Status.REFERRED
    assert changed.status_reason == "awaiting_second_approval"
    assert selectors.application_offer(changed) is None
    with pytest.raises(FourEyesViolation):  # the one who changed them cannot confirm them
        services.application_approve(application=application, acting_user=underwriter2)
    # the first approver may confirm the new terms: two people agree on what goes out
    confirmed = services.application_approve(application=application, acting_user=underwriter)
    assert confirmed.status == Application.Status.APPROVED
    assert confirmed.offer.amount == Decimal("50000.00")
    assert confirmed.offer.annual_rate == Decimal("0")
