"""The objects the access matrix probes: one of each thing borrower A owns, the users of every
role, and the URL arguments that point at A's objects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from collections_app.models import ChargeOffRecommendation, CollectionCase, HardshipPlan
from lendcore.accounts.demo import DEMO_PASSWORD
from lendcore.accounts.roles import Role
from lendcore.accounts.services import (
    api_token_issue,
    borrower_sign_up,
    roles_sync,
    staff_user_create,
)
from lendcore.webhooks.models import Event, WebhookDelivery, WebhookSubscription
from origination import services as origination_services
from origination.demo import personal_product_ensure
from origination.models import Application, BorrowerInvitation, LoanImport, RuleSet
from servicing import rail_payments
from servicing.models import CobRun, Loan, Modification
from servicing.services import (
    business_date_set,
    fee_assess,
    loan_modify,
    payment_post,
    statement_generate,
)
from tests.origination.factories import ApplicantFactory, ApplicationFactory

ANONYMOUS = "anonymous"
BORROWER_A = "borrower_a"
BORROWER_B = "borrower_b"
STAFF = tuple(str(role) for role in Role)
ROLES: tuple[str, ...] = (ANONYMOUS, BORROWER_A, BORROWER_B, *STAFF)

ACH = {"method": "ach", "account_number": "000123456789", "routing_number": "011000015"}


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    # URL keyword -> the id (or value) of borrower A's object
    kwargs: dict[str, Any] = field(default_factory=dict)
    borrower_a: Any = None
    borrower_b: Any = None
    loan: Any = None


def world_build() -> World:
    """Borrower A's applicant, application (with documents), loan, payment, fee, statement,
    pending modification, pending rail payment and API token; borrower B and a user per
    staff role (the admin a superuser)."""
    roles_sync()
    world = World()
    for role in Role:
        world.users[str(role)] = staff_user_create(
            username=f"m_{role}",
            password=DEMO_PASSWORD,
            role=role,
            superuser=role is Role.ADMIN,
        )
    world.borrower_a = borrower_sign_up(
        email="amy@example.com", password=DEMO_PASSWORD, first_name="Amy", last_name="Adams"
    )
    world.borrower_b = borrower_sign_up(
        email="ben@example.com", password=DEMO_PASSWORD, first_name="Ben", last_name="Brown"
    )
    world.users[BORROWER_A] = world.borrower_a.user
    world.users[BORROWER_B] = world.borrower_b.user

    product = personal_product_ensure()
    officer = world.users[Role.LOAN_OFFICER]
    applicant = ApplicantFactory(
        last4="9999",
        borrower=world.borrower_a,
        acting_user=world.borrower_a.user,
        first_name="Amy",
        last_name="Adams",
    )
    application = ApplicationFactory(
        applicant=applicant,
        product=product,
        with_documents=True,
        acting_user=officer,
        amount=Decimal("20000.00"),
    )
    document = application.documents.order_by("id").first()

    # submitted (the sandbox approves it on commit), accepted by A, disbursed: A's loan
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    with TestCase.captureOnCommitCallbacks(execute=True):
        origination_services.application_submit(application=application, acting_user=officer)
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED, application.status
    origination_services.offer_accept(
        application=application,
        acting_user=world.borrower_a.user,
        signature_name="Amy Adams",
        ip_address="203.0.113.7",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = origination_services.application_disburse(
            application=application, acting_user=officer, method="ach", reference="ACH-1"
        )
    loan = Loan.objects.get(pk=application.loan_id)
    business_date_set(business_date=date(2026, 2, 1), acting_user=None)
    payment = payment_post(
        loan=loan,
        amount=Decimal("50.00"),
        effective_date=date(2026, 2, 1),
        method="ach",
        acting_user=None,
    )
    fee = fee_assess(
        loan=loan, kind="manual", amount=Decimal("5.00"), reason="matrix", acting_user=None
    )
    statement = statement_generate(loan=loan, period_end=date(2026, 2, 1))
    # a modification the approver still has to decide (collector, beyond the role's limits)
    modification = loan_modify(
        loan=loan,
        annual_rate_pct=Decimal("0"),
        remaining_term=480,
        reason="matrix",
        acting_user=world.users[Role.COLLECTOR],
    )
    assert modification.status == Modification.Status.PENDING
    transfer = rail_payments.payment_request_create(
        loan=loan, amount=Decimal("10.00"), acting_user=world.borrower_a.user, **ACH
    )
    token = api_token_issue(user=world.borrower_a.user, scope="read_only", name="matrix").token
    # staff name borrower A on a new applicant: an invitation A answers in the portal
    with TestCase.captureOnCommitCallbacks(execute=True):
        invited = ApplicantFactory(
            last4="8888", acting_user=officer, invite_borrower=world.borrower_a
        )
    invitation = BorrowerInvitation.objects.get(applicant=invited)
    (invite_mail,) = [m for m in mail.outbox if "in your name" in m.subject]
    invitation_token = re.search(r"/apply/invitations/t/([^/\s]+)/", invite_mail.body).group(1)
    run = CobRun.objects.create(business_date=date(2025, 12, 31), started_at=timezone.now())
    rule_set = RuleSet.objects.filter(product=product).order_by("id").first()
    assert rule_set is not None
    user_a = world.borrower_a.user
    case = CollectionCase.objects.create(
        loan=loan, opened_on=date(2026, 2, 1), bucket="1-29", reviewed_on=date(2026, 2, 1)
    )
    collector = world.users[Role.COLLECTOR]
    plan = HardshipPlan.objects.create(
        loan=loan,
        case=case,
        kind="deferral",
        months=2,
        reason="matrix",
        requested_by=collector,
        requested_on=date(2026, 2, 1),
    )
    recommendation = ChargeOffRecommendation.objects.create(
        case=case,
        loan=loan,
        reason="matrix",
        recommended_by=collector,
        recommended_on=date(2026, 2, 1),
    )

    # A's own ids for its applicant, application, loan, payment and case (the external-id
    # lookups)
    for named in (applicant, application, loan, payment, case):
        type(named).objects.filter(pk=named.pk).update(external_id="a-1", external_id_owner=user_a)

    # a webhook subscription (to a receiver that is never reached) and one delivery
    subscription = WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hook", event_types=["payment.posted"], secret_encrypted="x"
    )
    event = Event.objects.filter(loan_id=loan.pk).order_by("id").first()
    assert event is not None
    delivery = WebhookDelivery.objects.create(
        event=event, subscription=subscription, loan_id=loan.pk, next_attempt_at=timezone.now()
    )

    # a portfolio import that failed on its file (a retry is a 409)
    loan_import = LoanImport.objects.create(
        content=b"x",
        status="failed",
        errors=[{"file": "loans", "row": 1, "column": None, "code": "empty", "message": "x"}],
    )

    world.loan = loan
    world.kwargs = {
        "import_id": loan_import.pk,
        "subscription_id": subscription.pk,
        "delivery_id": delivery.pk,
        "loan_id": loan.pk,
        "application_id": application.pk,
        "applicant_id": applicant.pk,
        "document_id": document.pk,
        "payment_id": payment.pk,
        "fee_id": fee.pk,
        "statement_id": statement.pk,
        "modification_id": modification.pk,
        "transfer_id": transfer.pk,
        "token_id": token.pk,
        "product_id": product.pk,
        "rule_set_id": rule_set.pk,
        "run_id": run.pk,
        "invitation_id": invitation.pk,
        # the invitation's link (its `token` is not the password reset's)
        "origination:portal-invitation-token:token": invitation_token,
        "case_id": case.pk,
        "external_id": "a-1",
        "name": "trial_balance",  # a report (the ledger's: export_gl)
        "plan_id": plan.pk,
        "recommendation_id": recommendation.pk,
        # A's password reset link and a sign-up link (what anyone holding them reaches)
        "uidb64": urlsafe_base64_encode(force_bytes(user_a.pk)),
        "token": default_token_generator.make_token(user_a),
    }
    return world
