"""seed_demo: the PERSONAL product, its active rule set and applications in every state."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from origination.models import Application, BorrowerInvitation, LoanProduct, RuleSet

pytestmark = pytest.mark.django_db


def test_seed_demo_has_every_state_and_is_idempotent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    product = LoanProduct.objects.get(code="PERSONAL")
    assert RuleSet.objects.filter(product=product, status="active").count() == 1
    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == set(Application.Status.values)
    disbursed = Application.objects.get(status="disbursed")
    assert disbursed.loan_id is not None
    # A draft started by staff for an existing borrower waits for the borrower's answer
    invitation = BorrowerInvitation.objects.get(status="pending")
    assert invitation.applicant.borrower_id is None
    assert invitation.email == invitation.borrower.user.email
    count = Application.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Application.objects.count() == count
