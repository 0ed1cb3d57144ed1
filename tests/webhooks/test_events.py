"""Each domain event is written to the outbox by the path that makes the change, in its
transaction: a rolled-back change leaves no event; the writer is one INSERT."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from lendcore.accounts.roles import Role
from lendcore.webhooks.models import Event
from lendcore.webhooks.outbox import event_emit
from servicing import services as servicing_services
from servicing.modify import charge_off_decide, charge_off_request, modification_decide
from servicing.payoff import payoff_quote_build
from servicing.selectors import business_date_get
from tests.security.world import world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IDENTITY_BACKEND = "origination.adapters.identity.SandboxIdentity"
    settings.BUREAU_BACKEND = "origination.adapters.bureau.SandboxBureau"
    return world_build()


def _types(**filters) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("type", flat=True))


def test_the_lifecycle_writes_its_events_in_order(world):
    # Given the world: applied, decided, accepted, disbursed, paid, a fee, a rail payment
    loan = world.loan
    assert _types(loan_id__isnull=True)[:3] == [
        "application.submitted",
        "application.decided",
        "offer.accepted",
    ]
    assert _types(loan_id=loan.pk) == [
        "loan.disbursed",
        "payment.posted",
        "fee.assessed",
        "payment.pending",
    ]
    posted = Event.objects.get(type="payment.posted")
    assert posted.payload["amount"] == "50.00"
    assert posted.payload["loan_number"] == loan.loan_number

    # When the payment is reversed, the modification approved and the loan charged off
    agent, admin = world.users[Role.SERVICING_AGENT], world.users[Role.ADMIN]
    payment = loan.payments.get()
    servicing_services.payment_reverse(payment=payment, reason="returned", acting_user=agent)
    modification = loan.modifications.get()
    modification_decide(
        loan=loan, modification_id=modification.pk, approve=True, reason="ok", acting_user=admin
    )
    charge_off_request(loan=loan, reason="uncollectable", acting_user=agent)
    charge_off_decide(loan=loan, approve=True, reason="agreed", acting_user=admin)

    # Then each wrote its event, in order, keyed by the loan
    assert _types(loan_id=loan.pk)[4:] == ["payment.reversed", "loan.modified", "loan.charged_off"]


def test_a_payoff_writes_loan_paid_off(world):
    loan = world.loan
    loan.refresh_from_db()
    agent = world.users[Role.SERVICING_AGENT]
    amount = payoff_quote_build(loan, business_date_get()).payoff_amount
    servicing_services.payment_post(
        loan=loan, amount=amount, method="ach", acting_user=agent, allow_credit=True
    )
    assert _types(loan_id=loan.pk)[-2:] == ["payment.posted", "loan.paid_off"]


def test_a_rolled_back_change_leaves_no_event(world):
    loan = world.loan
    agent = world.users[Role.SERVICING_AGENT]
    before = Event.objects.count()
    seen: list[int] = []

    def change_then_fail() -> None:
        with transaction.atomic():
            servicing_services.fee_assess(
                loan=loan, kind="manual", amount=Decimal("5.00"), reason="oops", acting_user=agent
            )
            seen.append(Event.objects.count())  # written in the change's transaction
            raise RuntimeError("the change fails after the fee")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert seen == [before + 1]
    assert Event.objects.count() == before


def test_the_writer_is_one_insert(db, django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1):
        event_emit(type="payment.posted", loan_id=7, data={"amount": Decimal("1.00")})
    assert Event.objects.get().payload == {"amount": "1.00"}


def test_an_unknown_event_type_is_a_programming_error(db):
    with pytest.raises(ValueError, match=r"events\.py"):
        event_emit(type="loan.exploded", data={})
