"""Logging contacts and scheduling follow-ups through the service, the staff case page and
the API: every Regulation F block refuses (409 / a form error saying why) and changes
nothing; a dispute is opened by a contact and resolved by a collector."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from collections_app.errors import ContactRefused
from collections_app.models import CaseEvent, Contact, ContactPreference
from collections_app.services.contacts import (
    contact_log,
    dispute_resolve,
    follow_up_schedule,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
ON = date(2026, 3, 6)
API = "/api/v1/collections/cases/"


def _chicago(borrower, **fields) -> None:
    ContactPreference.objects.update_or_create(
        borrower=borrower, defaults={"time_zone": "America/Chicago"} | fields
    )


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


def _call(case, user, at, **kw):
    args = {
        "case": case,
        "channel": "call",
        "direction": "outbound",
        "outcome": "no_answer",
        "at": at,
        "acting_user": user,
        "on": ON,
    } | kw
    return contact_log(**args)


def _snapshot(case):
    case.refresh_from_db()
    return (
        Contact.objects.count(),
        CaseEvent.objects.filter(case=case).count(),
        case.disputed,
        case.follow_up_at,
    )


# --------------------------------------------------------------------------- the service


def test_a_call_inside_the_window_is_logged_with_its_event(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    contact = _call(case, collector, _at(23, 10), notes="rang twice")
    assert (contact.loan_id, contact.actor_id, contact.business_date) == (
        case.loan_id,
        collector.pk,
        ON,
    )
    event = CaseEvent.objects.get(case=case, kind="contact")
    assert event.data["contact"] == contact.pk
    assert event.data["outcome"] == "no_answer"


def test_a_call_outside_the_borrower_s_window_is_refused(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    before = _snapshot(case)
    for at in (_at(23, 7, 59), _at(23, 21, 0)):
        with pytest.raises(ContactRefused) as refused:
            _call(case, collector, at)
        assert refused.value.http_status == 409
        assert refused.value.extra["rule"] == "outside_call_window"
    assert _snapshot(case) == before
    # an inbound call (the borrower rings us) is not a collector's attempt
    _call(case, collector, _at(23, 22, 0), direction="inbound", outcome="promise_to_pay")


def test_the_eighth_call_in_seven_days_is_refused(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    for day in range(16, 23):  # seven calls, one a day
        _call(case, collector, _at(day, 10))
    before = _snapshot(case)
    with pytest.raises(ContactRefused) as refused:
        _call(case, collector, _at(22, 15))
    assert refused.value.extra["rule"] == "call_cap_reached"
    assert "eighth is refused" in refused.value.message
    assert _snapshot(case) == before
    # an e-mail is not a call; a week after the first call, a call is allowed again
    _call(case, collector, _at(22, 15), channel="email")
    _call(case, collector, _at(23, 10, 1))


def test_the_cap_counts_the_loan_s_calls_across_its_cases(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    for day in range(16, 23):
        _call(case, collector, _at(day, 10))
    case.status, case.closed_on = "cured", ON
    case.save(update_fields=["status", "closed_on"])
    again = type(case).objects.create(
        loan=case.loan,
        status="open",
        opened_on=ON,
        bucket="1-29",
        dpd=1,
        reviewed_on=ON,
    )
    with pytest.raises(ContactRefused):
        _call(again, collector, _at(22, 16))


def test_cease_communication_stops_outbound_contact(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower, cease_communication=True, cease_communication_on=ON)
    before = _snapshot(case)
    for channel in ("call", "email", "sms", "letter", "visit"):
        with pytest.raises(ContactRefused) as refused:
            _call(case, collector, _at(23, 10), channel=channel)
        assert refused.value.extra["rule"] == "cease_communication"
    assert _snapshot(case) == before


def test_an_opted_out_channel_is_refused(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower, call_opt_out=True)
    borrower.email_opt_out = True
    borrower.save(update_fields=["email_opt_out"])
    for channel in ("call", "email"):
        with pytest.raises(ContactRefused) as refused:
            _call(case, collector, _at(23, 10), channel=channel)
        assert refused.value.extra["rule"] == "opted_out"
    _call(case, collector, _at(23, 10), channel="sms")


def test_a_follow_up_is_scheduled_only_within_the_rules(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    later = (timezone.now() + timedelta(days=2)).astimezone(CHICAGO)
    with pytest.raises(ContactRefused) as refused:
        follow_up_schedule(
            case=case, at=later.replace(hour=22), channel="call", acting_user=collector, on=ON
        )
    assert refused.value.extra["rule"] == "outside_call_window"
    assert "scheduled" in refused.value.message
    case.refresh_from_db()
    assert case.follow_up_at is None
    good = later.replace(hour=10, minute=30, second=0, microsecond=0)
    follow_up_schedule(
        case=case, at=good, channel="call", note="after payday", acting_user=collector, on=ON
    )
    case.refresh_from_db()
    assert (case.follow_up_at, case.follow_up_channel) == (good, "call")
    assert CaseEvent.objects.filter(case=case, kind="follow_up").exists()


def test_a_dispute_contact_opens_a_dispute_a_collector_resolves_it(open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    _call(case, collector, _at(23, 10), outcome="dispute", notes="says the loan was paid")
    case.refresh_from_db()
    assert (case.disputed, case.disputed_on) == (True, ON)
    assert CaseEvent.objects.filter(case=case, kind="dispute_opened").exists()
    dispute_resolve(case=case, note="verification sent", acting_user=collector, on=ON)
    case.refresh_from_db()
    assert not case.disputed
    from collections_app.errors import DisputeConflict

    with pytest.raises(DisputeConflict):
        dispute_resolve(case=case, note="again", acting_user=collector, on=ON)


# --------------------------------------------------------------------------- the API


def _post(api, case, body, key="k-1"):
    return api.post(f"{API}{case.pk}/contacts/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_api_logs_a_contact_once_per_key(staff_api_client, open_case, collector, borrower):
    case = open_case()
    _chicago(borrower)
    api = staff_api_client(collector)
    body = {
        "channel": "call",
        "direction": "outbound",
        "outcome": "left_message",
        "at": _at(23, 10).isoformat(),
    }
    first = _post(api, case, body)
    assert first.status_code == 201, first.json()
    again = _post(api, case, body)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Contact.objects.count() == 1
    listed = api.get(f"{API}{case.pk}/contacts/").json()["results"]
    assert [c["id"] for c in listed] == [first.json()["id"]]
    assert _post(api, case, body, key="").status_code == 400  # the header is required


def test_the_api_answers_409_for_a_refused_call_and_400_for_bad_input(
    staff_api_client, open_case, collector, borrower
):
    case = open_case()
    _chicago(borrower)
    api = staff_api_client(collector)
    late = {
        "channel": "call",
        "direction": "outbound",
        "outcome": "no_answer",
        "at": _at(23, 22).isoformat(),
    }
    response = _post(api, case, late)
    assert response.status_code == 409
    assert response.json()["code"] == "contact_refused"
    assert response.json()["extra"]["rule"] == "outside_call_window"
    bads = (
        ({"channel": "fax", "direction": "outbound", "outcome": "no_answer"}, "channel"),
        ({"channel": "call", "direction": "sideways", "outcome": "no_answer"}, "direction"),
        ({"channel": "call", "direction": "outbound", "outcome": "maybe"}, "outcome"),
        ({"channel": "call", "direction": "outbound"}, "outcome"),
    )
    for n, (bad, field) in enumerate(bads):
        response = _post(api, case, bad, key=f"bad-{n}")
        assert response.status_code == 400, bad
        assert field in response.json()["extra"]["fields"]
    assert Contact.objects.count() == 0


def test_the_api_refuses_borrowers_and_other_staff(
    api_client, staff_api_client, open_case, borrower, servicing_agent, manager
):
    case = open_case()
    api_client.force_authenticate(user=borrower.user)
    for path in ("contacts", "promises"):
        assert api_client.get(f"{API}{case.pk}/{path}/").status_code == 403
        assert (
            api_client.post(
                f"{API}{case.pk}/{path}/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x"
            ).status_code
            == 403
        )
    assert staff_api_client(servicing_agent).get(f"{API}{case.pk}/contacts/").status_code == 403
    assert staff_api_client(manager).get(f"{API}{case.pk}/contacts/").status_code == 200
    assert staff_api_client(manager).get(f"{API}999999/contacts/").status_code == 404


# --------------------------------------------------------------------------- the case page


def test_the_case_page_explains_the_borrower_s_time_and_refuses_with_a_form_error(
    client, open_case, collector, borrower
):
    case = open_case()
    _chicago(borrower)
    client.force_login(collector)
    page = client.get(f"/staff/collections/cases/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    # the borrower's clock, not the server's (UTC)
    local_now = page.context["contact_status"].local_now
    assert local_now[:13] == f"{timezone.now().astimezone(CHICAGO):%Y-%m-%d %H}"
    assert local_now in html
    for text in (
        "Amount to cure",
        "America/Chicago",
        "Their time now",
        "Log a contact",
        "Record a promise to pay",
        "Take a payment by phone",
        "Record a dispute",
    ):
        assert text in html, text
    assert (
        client.get("/staff/collections/")
        .content.decode()
        .count(f"/staff/collections/cases/{case.pk}/")
        >= 1
    )
    form = {
        "contact-idempotency_key": "6f1c3d3e-0000-4000-8000-000000000001",
        "contact-channel": "call",
        "contact-direction": "outbound",
        "contact-outcome": "no_answer",
        "contact-at": "2026-11-23T22:30",
    }
    refused = client.post(f"/staff/collections/cases/{case.pk}/contacts/", form)
    assert refused.status_code == 409
    assert "between 08:00 and 21:00" in refused.content.decode()
    assert Contact.objects.count() == 0
    form["contact-at"] = "2026-11-23T10:30"
    form["contact-idempotency_key"] = "6f1c3d3e-0000-4000-8000-000000000002"
    done = client.post(f"/staff/collections/cases/{case.pk}/contacts/", form)
    assert done.status_code == 302
    contact = Contact.objects.get()
    assert contact.at == _at(23, 10, 30)  # read in the borrower's time zone
    assert client.post(f"/staff/collections/cases/{case.pk}/contacts/", form).status_code == 302
    assert Contact.objects.count() == 1  # the same form twice: once


def test_the_case_page_marks_and_resolves_a_dispute(client, open_case, collector):
    case = open_case()
    client.force_login(collector)
    url = f"/staff/collections/cases/{case.pk}/dispute/"
    body = {
        "dispute-idempotency_key": "6f1c3d3e-0000-4000-8000-000000000003",
        "dispute-note": "not my loan",
    }
    assert client.post(url, body).status_code == 302
    case.refresh_from_db()
    assert case.disputed
    assert (
        "Resolve the dispute" in client.get(f"/staff/collections/cases/{case.pk}/").content.decode()
    )
    body["dispute-idempotency_key"] = "6f1c3d3e-0000-4000-8000-000000000004"
    assert client.post(url + "resolve/", body).status_code == 302
    case.refresh_from_db()
    assert not case.disputed
    body["dispute-idempotency_key"] = "6f1c3d3e-0000-4000-8000-000000000005"
    again = client.post(url + "resolve/", body)
    assert again.status_code == 409
    assert "no open dispute" in again.content.decode()


def test_the_contact_and_promise_lists_do_not_grow_in_queries(
    staff_api_client, open_case, collector, borrower
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = open_case()
    _chicago(borrower)
    api = staff_api_client(collector)
    api.get(f"{API}{case.pk}/contacts/")  # permissions cached
    counts = []
    for day in (16, 17, 18):
        _call(case, collector, _at(day, 10))
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"{API}{case.pk}/contacts/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[2]
