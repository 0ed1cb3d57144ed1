"""application_create: product limits, frequency, external_id replay."""

from __future__ import annotations

from decimal import Decimal

import pytest

from origination import services
from origination.errors import Conflict, ValidationFailed
from origination.models import Application

from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def _create(product, applicant, **changes):
    kwargs = {
        "acting_user": None,
        "applicant": applicant,
        "product": product,
        "amount": Decimal("10000.00"),
        "term": 36,
        "frequency": "monthly",
        "channel": "api",
    }
    kwargs.update(changes)
    return services.application_create(**kwargs)


def test_creates_a_draft_on_the_current_product_version(product):
    application = _create(product, ApplicantFactory())
    assert application.status == "draft"
    assert application.product_version.version == 1
    assert application.events.get().to_status == "draft"


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("amount", {"amount": Decimal("999.99")}),
        ("amount", {"amount": Decimal("50000.01")}),
        ("term", {"term": 11}),
        ("term", {"term": 61}),
        ("frequency", {"frequency": "weekly"}),
    ],
)
def test_outside_the_product_is_400_and_creates_nothing(product, field, changes):
    applicant = ApplicantFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        _create(product, applicant, **changes)
    assert field in excinfo.value.extra["fields"]
    assert Application.objects.count() == 0


def test_external_id_replay_returns_the_same_application(product):
    applicant = ApplicantFactory()
    first = _create(product, applicant, external_id="X-1")
    again = _create(product, applicant, external_id="X-1")
    assert first.pk == again.pk
    with pytest.raises(Conflict):
        _create(product, applicant, external_id="X-1", amount=Decimal("2000.00"))
    assert Application.objects.count() == 1


def test_inactive_product_is_refused(product):
    services.product_update(product=product, acting_user=None, active=False)
    product.refresh_from_db()
    with pytest.raises(ValidationFailed):
        _create(product, ApplicantFactory())
