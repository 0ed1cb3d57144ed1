"""Demo data for this app, loaded by `manage.py seed_demo` after the demo users. Idempotent.

The `PERSONAL` product and its rule set are a contract (issue 3, "Demo data"): 1,000-50,000,
12-60 monthly payments, ACT/365F, daily simple interest, a 3 % prepaid origination fee, late
fee 15.00 after 10 days, `id_proof` and `proof_of_income` required, four-eyes above 25,000;
the rules decline below 580, with a bankruptcy or above 50 % DTI, and refer a score under 680
or no credit file.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from pypdf import PdfWriter

from lendcore.accounts.models import Borrower
from lendcore.core.state import transition

from . import selectors, services
from .models import Application, LoanProduct, Offer

PERSONAL_CODE = "PERSONAL"

PERSONAL_TERMS: dict[str, Any] = {
    "currency": "USD",
    "min_amount": Decimal("1000.00"),
    "max_amount": Decimal("50000.00"),
    "min_term": 12,
    "max_term": 60,
    "frequencies": ["monthly"],
    "amortization": "level",
    "interest_method": "declining",
    "day_count": "ACT/365F",
    "interest_model": "daily_simple",
    "payment_rounding": Decimal("0.01"),
    "base_rate": Decimal("17.99"),
    "pricing_tiers": [
        {"min_score": 740, "max_score": 850, "rate": "8.99", "max_amount": "50000.00"},
        {"min_score": 680, "max_score": 739, "rate": "11.99", "max_amount": "35000.00"},
        {"min_score": 580, "max_score": 679, "rate": "17.99", "max_amount": "20000.00"},
    ],
    "origination_fee_basis": "percent",
    "origination_fee_value": Decimal("3"),
    "origination_fee_timing": "prepaid",
    "late_fee_basis": "flat",
    "late_fee_value": Decimal("15.00"),
    "late_fee_grace_days": 10,
    "late_fee_cap": None,
    "nsf_fee": Decimal("25.00"),
    "allocation_order": ["fees", "interest", "principal"],
    "prepayment_option": "reduce_term",
    "required_document_types": ["id_proof", "proof_of_income"],
    "four_eyes_limit": Decimal("25000.00"),
    "offer_validity_days": 30,
}

PERSONAL_RULES: list[dict[str, str]] = [
    {
        "feature": "identity_result",
        "operator": "eq",
        "threshold": "fail",
        "outcome": "decline",
        "reason_code": "IDENTITY_NOT_VERIFIED",
        "reason_text": "Unable to verify identity",
    },
    {
        "feature": "score",
        "operator": "lt",
        "threshold": "580",
        "outcome": "decline",
        "reason_code": "CREDIT_SCORE_TOO_LOW",
        "reason_text": "Credit score below our minimum requirement",
    },
    {
        "feature": "bankruptcies",
        "operator": "gte",
        "threshold": "1",
        "outcome": "decline",
        "reason_code": "BANKRUPTCY",
        "reason_text": "Bankruptcy",
    },
    {
        "feature": "dti",
        "operator": "gt",
        "threshold": "0.50",
        "outcome": "decline",
        "reason_code": "EXCESSIVE_OBLIGATIONS",
        "reason_text": "Excessive obligations in relation to income",
    },
    {
        "feature": "identity_result",
        "operator": "eq",
        "threshold": "review",
        "outcome": "refer",
        "reason_code": "IDENTITY_REVIEW",
        "reason_text": "Identity needs manual verification",
    },
    {
        "feature": "score",
        "operator": "lt",
        "threshold": "680",
        "outcome": "refer",
        "reason_code": "SCORE_BELOW_AUTO_APPROVAL",
        "reason_text": "Credit score below the automatic approval level",
    },
    {
        "feature": "score",
        "operator": "missing",
        "threshold": "",
        "outcome": "refer",
        "reason_code": "NO_CREDIT_FILE",
        "reason_text": "No credit file",
    },
]


def _blank_pdf(title: str) -> bytes:
    """A real one-page PDF (uploads are parsed, a lookalike is refused)."""
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


DEMO_PDF = _blank_pdf("LendCore demo document")


def personal_product_ensure(*, acting_user: Any = None):
    """The PERSONAL product with its active rule set (created once)."""
    product = LoanProduct.objects.filter(code=PERSONAL_CODE).first()
    if product is None:
        product = services.product_create(
            acting_user=acting_user, code=PERSONAL_CODE, name="Personal loan", **PERSONAL_TERMS
        )
    if selectors.rule_set_active(product_id=product.pk) is None:
        rule_set = services.rule_set_create(
            product=product, acting_user=acting_user, name="Personal v1", rules=PERSONAL_RULES
        )
        services.rule_set_activate(rule_set=rule_set, acting_user=acting_user)
    return product


def _upload(application, doc_type: str, user) -> None:

    services.document_upload(
        application=application,
        acting_user=user,
        doc_type=doc_type,
        file=ContentFile(DEMO_PDF, name=f"{doc_type}.pdf"),
    )


# After servicing's demo (DEMO_ORDER 10): its business date and loans come first.
DEMO_ORDER = 20


def seed_demo() -> list[str]:
    """Create this app's demo rows; return a line per thing created."""
    lines: list[str] = []
    User = get_user_model()
    officer = User.objects.filter(username="loan_officer").first()
    underwriter = User.objects.filter(username="underwriter").first()
    underwriter2 = User.objects.filter(username="underwriter2").first()
    admin = User.objects.filter(username="admin").first()
    with transaction.atomic():
        product = personal_product_ensure(acting_user=admin)
    lines.append(f"Product {product.code} with an active rule set.")
    if Application.objects.filter(product=product).exists():
        lines.append("Demo applications already present; nothing to create.")
        return lines

    alice = Borrower.objects.filter(user__username="alice").first()
    bob = Borrower.objects.filter(user__username="bob").first()
    # E-mails of the demo itself are not worth printing on the console.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        created = _seed_applications(
            product=product,
            borrowers=[alice, bob],
            officer=officer,
            underwriter=underwriter,
            underwriter2=underwriter2,
            services=services,
        )
    lines.append(f"Demo applications: {', '.join(created)}.")
    return lines


DEMO_ACCOUNT = "000123456789"  # the borrower's (demo) account the loans are paid to


def _seed_applications(*, product, borrowers, officer, underwriter, underwriter2, services):

    S = Application.Status
    created: list[str] = []
    borrowers = [b for b in borrowers if b is not None]
    today = timezone.localdate()

    def applicant(last4: str, last_name: str, borrower=None, income="8000.00"):
        # A borrower's own applicant is theirs (as in the portal); staff never link one.
        return services.applicant_create(
            acting_user=borrower.user if borrower else officer,
            borrower=borrower,
            ssn=f"123-45-{last4}",
            first_name=borrower.first_name if borrower else "Demo",
            last_name=last_name,
            date_of_birth=date(today.year - 35, 5, 17),
            email=borrower.email if borrower else f"{last_name.lower()}@example.com",
            phone="+1 555 0199",
            address_line1="100 Main Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
            employer="Acme Corp",
            months_employed=48,
            monthly_income=Decimal(income),
            monthly_housing_payment=Decimal("1500.00"),
            monthly_other_debts=Decimal("300.00"),
        )

    def application(person, amount="10000.00", term=36, purpose="Debt consolidation", docs=True):
        app = services.application_create(
            acting_user=officer,
            applicant=person,
            product=product,
            amount=Decimal(amount),
            term=term,
            frequency="monthly",
            purpose=purpose,
            channel="staff",
            assigned_officer=officer,
        )
        if docs:
            for doc_type in ("id_proof", "proof_of_income"):
                _upload(app, doc_type, officer)
        return app

    def submit(app):
        services.application_submit(application=app, acting_user=officer)
        # Decided on commit already when seeding runs in autocommit; a no-op replay then.
        services.application_decide(application_id=app.pk)

    borrower = borrowers[0] if borrowers else None
    last = borrower.last_name if borrower else "Anderson"

    # draft
    application(applicant("9999", last, borrower), purpose="Home improvement", docs=False)
    created.append(S.DRAFT)
    # submitted and in_review: parked before the automated decision
    for status, reason in ((S.SUBMITTED, ""), (S.IN_REVIEW, "bureau_unavailable")):
        app = application(applicant("9999", "Parker", None))
        with transaction.atomic():
            app.submitted_at = timezone.now()
            transition(app, to=S.SUBMITTED, acting_user=officer, update_fields=["submitted_at"])
            if status == S.IN_REVIEW:
                app.status_reason = reason
                transition(app, to=S.IN_REVIEW, acting_user=None, update_fields=["status_reason"])
        created.append(status)
    # approved (9999), referred (5555), declined (1111)
    approved = application(applicant("9999", last, borrower))
    submit(approved)
    created.append(Application.objects.get(pk=approved.pk).status)
    referred = application(applicant("5555", "Baker", borrowers[-1] if borrowers else None))
    submit(referred)
    created.append(Application.objects.get(pk=referred.pk).status)
    declined = application(applicant("1111", "Cole", None))
    submit(declined)
    created.append(Application.objects.get(pk=declined.pk).status)
    # withdrawn
    withdrawn = application(applicant("9999", "Wells", None))
    services.application_withdraw(application=withdrawn, acting_user=officer, reason="changed mind")
    created.append(S.WITHDRAWN)
    # expired: an approved offer past its validity
    expired = application(applicant("9999", "Evans", None))
    submit(expired)

    # Backdate this one offer's validity so that the expiry task takes it (and only it).
    Offer.objects.filter(application=expired).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    services.offers_expire()
    created.append(Application.objects.get(pk=expired.pk).status)
    # offer_accepted and disbursed (need a borrower account to board the loan)
    if borrower is not None:
        accepted = application(applicant("9999", last, borrower), amount="5000.00", term=24)
        submit(accepted)
        accepted = Application.objects.get(pk=accepted.pk)
        if accepted.status == S.APPROVED:
            services.offer_accept(
                application=accepted,
                acting_user=borrower.user,
                signature_name=f"{borrower.first_name} {last}",
                ip_address="127.0.0.1",
                disbursement_account=DEMO_ACCOUNT,
            )
        created.append(Application.objects.get(pk=accepted.pk).status)
        disbursed = application(applicant("9999", last, borrower), amount="8000.00", term=36)
        submit(disbursed)
        disbursed = Application.objects.get(pk=disbursed.pk)
        if disbursed.status == S.APPROVED:
            services.offer_accept(
                application=disbursed,
                acting_user=borrower.user,
                signature_name=f"{borrower.first_name} {last}",
                ip_address="127.0.0.1",
                disbursement_account=DEMO_ACCOUNT,
            )
            services.application_disburse(
                application=disbursed, acting_user=officer, method="ach", reference="DEMO-ACH-1"
            )
        created.append(Application.objects.get(pk=disbursed.pk).status)
    # referred above the four-eyes limit, approved once (waits for a second underwriter)
    if underwriter is not None and underwriter2 is not None:
        big = application(applicant("5555", "Grant", None), amount="30000.00", term=60)
        submit(big)
        big = Application.objects.get(pk=big.pk)
        if big.status == S.REFERRED:
            services.application_approve(application=big, acting_user=underwriter)
        created.append("referred (one of two approvals)")
    # A draft a loan officer started for an existing borrower: an invitation they answer in
    # the portal (staff never link an existing borrower directly)
    invitee = borrowers[-1] if borrowers else None
    if invitee is not None and selectors.borrower_verified_email(invitee):
        person = services.applicant_create(
            acting_user=officer,
            invite_borrower=invitee,
            ssn="123-45-9999",
            first_name=invitee.first_name,
            last_name=invitee.last_name,
            date_of_birth=date(today.year - 40, 3, 9),
            email=invitee.email,
            address_line1="200 Oak Avenue",
            city="Springfield",
            state="IL",
            postal_code="62701",
            monthly_income=Decimal("7000.00"),
        )
        application(person, amount="6000.00", term=24, purpose="Car repair")
        created.append("draft awaiting the borrower's invitation")
    return created
