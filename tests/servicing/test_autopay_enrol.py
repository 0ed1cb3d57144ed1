"""autopay_enrol and autopay_cancel: the borrower's standing authorization of debits (issue 13).

Happy paths (enrol, replace, cancel; timeline and audit trail), each refusal (bad account,
routing check digit, no authorization, a paid-off loan, nothing to cancel, another borrower,
a staff role without service_loans) and that a refusal changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from lendcore.accounts.demo import DEMO_PASSWORD
from lendcore.accounts.roles import Role
from lendcore.accounts.services import staff_user_create
from lendcore.core.models import AuditEvent
from lendcore.errors import NotFound, PermissionDenied
from servicing.autopay import (
    AUTHORIZATION_VERSION,
    autopay_cancel,
    autopay_enrol,
    routing_number_valid,
)
from servicing.errors import LoanStateConflict, ServicingValidationError
from servicing.models import AutopayEnrolment, Loan, LoanEvent
from servicing.services import payment_post, payoff_quote

pytestmark = pytest.mark.django_db

ROUTING = "021000021"  # a valid ABA check digit
ACCOUNT = "000123456789"


def _snapshot(loan: Loan) -> tuple:
    return (
        list(
            AutopayEnrolment.objects.filter(loan=loan).values_list("pk", "active", "cancelled_at")
        ),
        LoanEvent.objects.filter(loan=loan, kind="autopay").count(),
        AuditEvent.objects.filter(action__startswith="autopay").count(),
    )


def _enrol(loan, user, **overrides):
    arguments = {
        "loan": loan,
        "account_number": ACCOUNT,
        "routing_number": ROUTING,
        "acting_user": user,
        "authorized": True,
    }
    arguments.update(overrides)
    return autopay_enrol(**arguments)


@pytest.mark.parametrize(
    ("routing", "valid"),
    [("021000021", True), ("011000015", True), ("021000022", False), ("12345678", False)],
)
def test_routing_check_digit(routing, valid):
    assert routing_number_valid(routing) is valid


def test_borrower_enrols_their_loan(loan, borrower):
    # When Carol enrols her loan, typing the account with spaces
    enrolment = _enrol(loan, borrower.user, account_number="0001 2345-6789")

    # Then the enrolment is active, encrypted, masked, hers; the timeline and audit say so
    enrolment.refresh_from_db()
    assert enrolment.active
    assert enrolment.cancelled_at is None
    assert enrolment.account_last4 == "6789"
    assert ACCOUNT not in enrolment.account_encrypted
    assert enrolment.routing_number == ROUTING
    assert enrolment.created_by == borrower.user
    event = LoanEvent.objects.get(loan=loan, kind="autopay")
    assert event.actor == borrower.user
    assert "****6789" in event.reason
    assert event.data["authorization"] == AUTHORIZATION_VERSION
    audit = AuditEvent.objects.get(action="autopay_enrolled")
    assert audit.actor_id == borrower.user.pk
    assert audit.object_id == str(enrolment.pk)
    assert audit.detail["last4"] == "6789"
    assert ACCOUNT not in str(audit.detail)


def test_a_new_enrolment_replaces_the_active_one(loan, borrower):
    first = _enrol(loan, borrower.user)
    second = _enrol(loan, borrower.user, account_number="55501234")
    first.refresh_from_db()
    assert not first.active
    assert first.cancelled_at is not None
    assert second.active
    assert AutopayEnrolment.objects.filter(loan=loan, active=True).count() == 1
    assert LoanEvent.objects.get(loan=loan, data__enrolment=second.pk).data["replaced"] == [
        first.pk
    ]


def test_staff_enrol_on_the_borrowers_request(loan, servicing_agent):
    enrolment = _enrol(loan, servicing_agent)
    assert enrolment.created_by == servicing_agent
    assert "on the borrower's request" in LoanEvent.objects.get(loan=loan, kind="autopay").reason
    assert AuditEvent.objects.get(action="autopay_enrolled").detail["on_behalf"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"account_number": "123"}, "account_number"),
        ({"account_number": "12ab5678"}, "account_number"),
        ({"account_number": "1" * 18}, "account_number"),
        ({"routing_number": "02100002"}, "routing_number"),
        ({"routing_number": "021000022"}, "routing_number"),  # bad check digit
        ({"routing_number": ""}, "routing_number"),
        ({"authorized": False}, "authorized"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(loan, borrower, overrides, field):
    before = _snapshot(loan)
    with pytest.raises(ServicingValidationError) as caught:
        _enrol(loan, borrower.user, **overrides)
    assert caught.value.http_status == 400
    assert list(caught.value.extra["fields"]) == [field]
    assert _snapshot(loan) == before


def test_the_check_digit_message_says_so(loan, borrower):
    with pytest.raises(ServicingValidationError) as caught:
        _enrol(loan, borrower.user, routing_number="021000022")
    assert "check digit" in caught.value.extra["fields"]["routing_number"][0]


def test_another_borrower_gets_not_found(loan, borrower, other_borrower):
    _enrol(loan, borrower.user)
    before = _snapshot(loan)
    with pytest.raises(NotFound):
        _enrol(loan, other_borrower.user)
    with pytest.raises(NotFound):
        autopay_cancel(loan=loan, acting_user=other_borrower.user)
    assert _snapshot(loan) == before


def test_a_staff_role_without_service_loans_is_refused(loan, roles, borrower):
    auditor = staff_user_create(username="t_auditor", password=DEMO_PASSWORD, role=Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        _enrol(loan, auditor)
    assert not AutopayEnrolment.objects.exists()


def _pay_off(loan, business_date) -> Loan:
    on = business_date(date(2026, 1, 20))
    quote = payoff_quote(loan=loan, on=on)
    payment_post(
        loan=loan, amount=quote.payoff_amount, effective_date=on, method="ach", acting_user=None
    )
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == Loan.Status.PAID_OFF
    return loan


def test_a_paid_off_loan_is_refused_with_409_and_nothing_changes(loan, borrower, business_date):
    _enrol(loan, borrower.user)
    loan = _pay_off(loan, business_date)
    before = _snapshot(loan)
    with pytest.raises(LoanStateConflict) as caught:
        _enrol(loan, borrower.user, account_number="99991111")
    assert caught.value.http_status == 409
    assert caught.value.code == "loan_closed"
    assert "paid off" in caught.value.message
    with pytest.raises(LoanStateConflict):
        autopay_cancel(loan=loan, acting_user=borrower.user)
    assert _snapshot(loan) == before


def test_borrower_cancels(loan, borrower):
    enrolment = _enrol(loan, borrower.user)
    cancelled = autopay_cancel(loan=loan, acting_user=borrower.user)
    assert cancelled.pk == enrolment.pk
    enrolment.refresh_from_db()
    assert not enrolment.active
    assert enrolment.cancelled_at is not None
    event = LoanEvent.objects.filter(loan=loan, kind="autopay").order_by("-id").first()
    assert event.data["cancelled"] is True
    assert event.actor == borrower.user
    assert AuditEvent.objects.get(action="autopay_cancelled").actor_id == borrower.user.pk


def test_cancel_without_an_enrolment_is_409(loan, borrower):
    with pytest.raises(LoanStateConflict) as caught:
        autopay_cancel(loan=loan, acting_user=borrower.user)
    assert caught.value.code == "autopay_not_enrolled"
    assert not LoanEvent.objects.filter(loan=loan, kind="autopay").exists()


def test_the_system_enrols_without_a_person(loan):
    # demo data and COB scenarios: no acting user, no authorization box
    enrolment = autopay_enrol(loan=loan, account_number=ACCOUNT, routing_number=ROUTING)
    assert enrolment.active
    assert enrolment.created_by is None
    assert AuditEvent.objects.get(action="autopay_enrolled").actor_name == "system"
