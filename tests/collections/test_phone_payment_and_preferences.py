"""A payment taken on the phone (through servicing's payment service, once per form) and
the borrower's contact preferences in the portal (validated time zone; shown to collectors;
the opt-outs servicing's reminders read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collections_app.errors import CasePermissionDenied, CollectionsValidationError
from collections_app.models import CaseEvent, ContactPreference
from collections_app.services.payments import phone_payment_take
from collections_app.services.preferences import contact_preferences_set
from lendcore.errors import ApplicationError

pytestmark = pytest.mark.django_db

ON = date(2026, 3, 6)
KEY = "6f1c3d3e-0000-4000-8000-0000000000b1"


def test_a_phone_payment_is_posted_once_and_written_on_the_case(client, open_case, collector):
    case = open_case()
    client.force_login(collector)
    url = f"/staff/collections/cases/{case.pk}/payments/"
    body = {
        "payment-idempotency_key": KEY,
        "payment-amount": "25.00",
        "payment-method": "debit_card",
        "payment-reference": "auth 991",
    }
    assert client.post(url, body).status_code == 302
    assert client.post(url, body).status_code == 302  # a double submit: the same key
    payments = list(case.loan.payments.all())
    assert [(p.amount, p.method) for p in payments] == [(Decimal("25.00"), "debit_card")]
    event = CaseEvent.objects.get(case=case, kind="payment")
    assert event.data["payment"] == payments[0].pk
    assert event.actor_id == collector.pk


def test_a_refused_phone_payment_changes_nothing(client, open_case, collector, manager):
    case = open_case()
    client.force_login(collector)
    url = f"/staff/collections/cases/{case.pk}/payments/"
    too_much = client.post(
        url,
        {
            "payment-idempotency_key": "6f1c3d3e-0000-4000-8000-0000000000b2",
            "payment-amount": "999999.00",
            "payment-method": "ach",
        },
    )
    assert too_much.status_code == 400
    assert "more than the payoff" in too_much.content.decode()
    # a manager works the queues but takes no payments (the policy table)
    with pytest.raises(ApplicationError) as refused:
        phone_payment_take(
            case=case, amount=Decimal("5.00"), method="ach", acting_user=manager, on=ON
        )
    assert getattr(refused.value, "http_status", None) == 403
    with pytest.raises(CollectionsValidationError):
        phone_payment_take(
            case=case, amount=Decimal("5.00"), method="cash", acting_user=collector, on=ON
        )
    assert not case.loan.payments.exists()
    assert not CaseEvent.objects.filter(case=case, kind="payment").exists()


# --------------------------------------------------------------------------- the portal

PREFS = "/my-contact-preferences/"


def test_a_borrower_sets_their_contact_preferences(client, borrower, open_case, collector):
    client.force_login(borrower.user)
    page = client.get(PREFS)
    assert page.status_code == 200
    assert "America/New_York" in page.content.decode()  # the default, preselected
    bad = client.post(PREFS, {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert not ContactPreference.objects.exists()
    done = client.post(
        PREFS,
        {"time_zone": "America/Denver", "call_opt_out": "on", "sms_opt_out": "on"},
    )
    assert done.status_code == 302
    pref = ContactPreference.objects.get(borrower=borrower)
    borrower.refresh_from_db()
    assert (pref.time_zone, pref.call_opt_out, pref.cease_communication) == (
        "America/Denver",
        True,
        False,
    )
    assert (borrower.sms_opt_out, borrower.email_opt_out) == (True, False)
    client.post(PREFS, {"time_zone": "America/Denver", "cease_communication": "on"})
    pref.refresh_from_db()
    assert pref.cease_communication
    assert pref.cease_communication_on is not None
    # the collector sees them on the case page
    case = open_case()
    client.force_login(collector)
    html = client.get(f"/staff/collections/cases/{case.pk}/").content.decode()
    assert "America/Denver" in html
    assert "Cease communication" in html


def test_staff_have_no_portal_preferences_page(client, collector):
    client.force_login(collector)
    assert client.get(PREFS).status_code == 403


def test_the_service_validates_the_time_zone_and_who_sets_it(borrower, other_borrower):
    args = {
        "call_opt_out": False,
        "email_opt_out": False,
        "sms_opt_out": False,
        "letter_opt_out": False,
        "cease_communication": False,
    }
    with pytest.raises(CollectionsValidationError) as bad:
        contact_preferences_set(
            borrower=borrower, time_zone="EST", acting_user=borrower.user, **args
        )
    assert "time_zone" in bad.value.extra["fields"]
    with pytest.raises(CasePermissionDenied):
        contact_preferences_set(
            borrower=borrower, time_zone="UTC", acting_user=other_borrower.user, **args
        )
