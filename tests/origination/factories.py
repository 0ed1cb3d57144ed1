"""factory_boy factories for origination, built through the services (so rows are valid).

`ApplicantFactory(last4="9999")` picks the sandbox bureau profile; `ApplicationFactory`
takes traits: `with_documents=True`, `submitted=True` (decided by the sandbox on commit).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from origination import services
from origination.demo import DEMO_PDF, personal_product_ensure
from origination.models import Applicant, Application


def _image(fmt: str) -> bytes:
    """A real (tiny) image: uploads are decoded, a lookalike is refused."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format=fmt)
    return out.getvalue()


PDF = DEMO_PDF
JPEG = _image("JPEG")
PNG = _image("PNG")


def pdf_file(name: str = "doc.pdf", data: bytes = PDF) -> ContentFile:
    return ContentFile(data, name=name)


class ApplicantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    class Params:
        last4 = "9999"

    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    date_of_birth = factory.LazyFunction(lambda: date(timezone.localdate().year - 35, 3, 14))
    ssn = factory.LazyAttribute(lambda o: f"123-45-{o.last4}")
    email = factory.Sequence(lambda n: f"applicant{n}@example.com")
    phone = "+1 555 0100"
    address_line1 = "1 Elm Street"
    city = "Springfield"
    state = "IL"
    postal_code = "62701"
    employer = "Acme"
    months_employed = 36
    monthly_income = Decimal("8000.00")
    monthly_housing_payment = Decimal("1500.00")
    monthly_other_debts = Decimal("250.00")
    borrower = None
    acting_user = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.applicant_create(**kwargs)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    with_documents = False
    acting_user = None
    applicant = factory.SubFactory(ApplicantFactory)
    product = factory.LazyFunction(lambda: personal_product_ensure())
    amount = Decimal("10000.00")
    term = 36
    frequency = "monthly"
    purpose = "Debt consolidation"
    channel = "staff"
    # Entered before the offer, as staff (or the borrower) may; `disbursement_account=None`
    # leaves it for the borrower to enter at acceptance.
    disbursement_account = "000111222333"

    @classmethod
    def _create(cls, model_class, *args, with_documents=False, **kwargs):
        application = services.application_create(**kwargs)
        if with_documents:
            for doc_type in application.product_version.required_document_types:
                services.document_upload(
                    application=application,
                    acting_user=kwargs.get("acting_user"),
                    doc_type=doc_type,
                    file=pdf_file(f"{doc_type}.pdf"),
                )
        return application
