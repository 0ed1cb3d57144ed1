"""The services check the permission of a staff action themselves (issue 14): the API, the
staff UI and the admin reach them alike, so no surface can skip the check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lendcore.errors import PermissionDenied
from servicing import services
from servicing.models import ChargeOff, Payment


def test_posting_a_payment_needs_service_loans(loan, loan_officer):
    with pytest.raises(PermissionDenied, match="service_loans"):
        services.payment_post(
            loan=loan, amount=Decimal("10.00"), method="cash", acting_user=loan_officer
        )
    assert not Payment.objects.filter(loan=loan).exists()


def test_an_agent_posts_a_payment(loan, servicing_agent):
    payment = services.payment_post(
        loan=loan, amount=Decimal("10.00"), method="cash", acting_user=servicing_agent
    )
    assert payment.status == Payment.Status.POSTED


@pytest.fixture
def charged_off(loan, servicing_agent, admin_user):
    services.charge_off_request(loan=loan, reason="gone", acting_user=servicing_agent)
    services.charge_off_decide(loan=loan, approve=True, reason="ok", acting_user=admin_user)
    loan.refresh_from_db()
    return loan


def test_undoing_a_charge_off_needs_approve_charge_off(charged_off, servicing_agent):
    with pytest.raises(PermissionDenied, match="approve_charge_off"):
        services.charge_off_undo(loan=charged_off, reason="error", acting_user=servicing_agent)
    assert ChargeOff.objects.get(loan=charged_off).status == ChargeOff.Status.APPROVED


def test_an_approver_undoes_a_charge_off(charged_off, admin_user):
    undone = services.charge_off_undo(loan=charged_off, reason="error", acting_user=admin_user)
    assert undone.status != ChargeOff.Status.APPROVED
