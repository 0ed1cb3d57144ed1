"""Origination fixtures: the PERSONAL product, applicants by sandbox profile, decided
applications, and on-commit execution (services schedule tasks and e-mails on commit)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from origination import services
from origination.demo import personal_product_ensure
from origination.models import Application

from .factories import ApplicantFactory, ApplicationFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IDENTITY_BACKEND = "origination.adapters.identity.SandboxIdentity"
    settings.BUREAU_BACKEND = "origination.adapters.bureau.SandboxBureau"
    settings.BUREAU_RETRY_MAX = 2


@pytest.fixture
def product(db):
    return personal_product_ensure()


@pytest.fixture
def make_applicant(db):
    def _make(last4: str = "9999", **kwargs):
        return ApplicantFactory(last4=last4, **kwargs)

    return _make


@pytest.fixture
def make_application(product, loan_officer):
    def _make(last4: str = "9999", *, applicant=None, with_documents=True, **kwargs):
        applicant = applicant or ApplicantFactory(last4=last4, acting_user=loan_officer)
        kwargs.setdefault("acting_user", loan_officer)
        return ApplicationFactory(
            applicant=applicant, product=product, with_documents=with_documents, **kwargs
        )

    return _make


@pytest.fixture
def decided(make_application, loan_officer, django_capture_on_commit_callbacks):
    """An application submitted and decided by the sandbox: `decided("5555", amount=...)`."""

    def _decide(last4: str = "9999", **kwargs) -> Application:
        application = make_application(last4, **kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            services.application_submit(application=application, acting_user=loan_officer)
        return Application.objects.get(pk=application.pk)

    return _decide


@pytest.fixture
def borrower_applicant(borrower):
    """An applicant linked to the `borrower` fixture (the portal user)."""
    return ApplicantFactory(
        last4="9999",
        borrower=borrower,
        acting_user=borrower.user,
        first_name=borrower.first_name,
        last_name=borrower.last_name,
        monthly_income=Decimal("8000.00"),
    )


@pytest.fixture
def accepted(decided, borrower):
    """An approved application of the `borrower` fixture whose offer is accepted."""

    def _accept(**kwargs) -> Application:
        applicant = ApplicantFactory(
            last4="9999",
            borrower=borrower,
            acting_user=borrower.user,
            first_name=borrower.first_name,
            last_name=borrower.last_name,
        )
        application = decided(applicant=applicant, **kwargs)
        assert application.status == Application.Status.APPROVED
        services.offer_accept(
            application=application,
            acting_user=borrower.user,
            signature_name=borrower.full_name,
            ip_address="203.0.113.7",
        )
        return Application.objects.get(pk=application.pk)

    return _accept
