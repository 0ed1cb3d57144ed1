"""Every Regulation F block explained on the case page before the collector tries (the
borrower's clock and whether a call is allowed now, the calls used of 7, a cease-
communication banner, a dispute banner saying dunning is paused, channel opt-outs); the
case page's hardship and charge-off panels; the queue's product and collector filters; the
portal's hardship notice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from collections_app import contact_rules
from collections_app.models import CollectionCase, Contact, ContactPreference, HardshipPlan
from collections_app.services.workouts import hardship_plan_request
from servicing.models import Loan

pytestmark = pytest.mark.django_db

# zones a few hours apart round the clock: one is inside, one outside the calling window now
ZONES = (
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def _zone(*, calling_allowed: bool) -> str:
    now = timezone.now()
    for zone in ZONES:
        # a margin, so the page drawn a moment later agrees
        if all(
            contact_rules.in_window(now + timedelta(minutes=m), zone) == calling_allowed
            for m in (0, 10)
        ):
            return zone
    raise AssertionError("no zone found")  # pragma: no cover


def _prefs(borrower, **fields) -> None:
    ContactPreference.objects.update_or_create(borrower=borrower, defaults=fields)


def _page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(f"/staff/collections/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _banner(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</div>", start)]


def test_calling_allowed_now_is_said_with_the_borrower_s_clock(
    client, open_case, collector, borrower
):
    zone = _zone(calling_allowed=True)
    _prefs(borrower, time_zone=zone)
    case = open_case()
    html = _page(client, collector, case)
    call_now = _banner(html, "call-now")
    assert "Calling now: allowed." in call_now
    assert zone in call_now
    assert f"{contact_rules.local_time(timezone.now(), zone):%Y-%m-%d %H}" in call_now
    assert "within the 08:00–21:00 calling window" in call_now
    assert "0 of 7 calls used in the last 7 days" in call_now
    assert 'id="cease-banner"' not in html
    assert 'id="dispute-banner"' not in html
    assert 'id="opt-outs"' not in html


def test_outside_the_window_the_page_says_why_before_the_collector_tries(
    client, open_case, collector, borrower
):
    zone = _zone(calling_allowed=False)
    _prefs(borrower, time_zone=zone)
    case = open_case()
    call_now = _banner(_page(client, collector, case), "call-now")
    assert "Calling now: not allowed." in call_now
    assert "outside the 08:00–21:00 calling window" in call_now
    assert "may only be made between 08:00 and 21:00 their time" in call_now


def test_the_call_cap_is_counted_and_the_next_call_time_given(
    client, open_case, collector, borrower
):
    zone = _zone(calling_allowed=True)
    _prefs(borrower, time_zone=zone)
    case = open_case()
    now = timezone.now()
    for hours in range(1, 8):  # seven calls in the last seven hours
        Contact.objects.create(
            case=case,
            loan_id=case.loan_id,
            channel="call",
            direction="outbound",
            outcome="no_answer",
            at=now - timedelta(hours=hours),
            actor=collector,
            business_date=case.reviewed_on,
        )
    html = _page(client, collector, case)
    call_now = _banner(html, "call-now")
    freed = contact_rules.local_time(now - timedelta(hours=7) + timedelta(days=7), zone)
    assert "Calling now: not allowed." in call_now
    assert "7 of 7 calls used in the last 7 days" in call_now
    assert f"the next allowed from {freed:%Y-%m-%d %H:%M} their time" in call_now
    assert "an eighth is refused" in call_now
    assert "cap reached: next call from" in html  # the contact-details row too


def test_cease_communication_is_a_banner(client, open_case, collector, borrower):
    _prefs(
        borrower,
        time_zone=_zone(calling_allowed=True),
        cease_communication=True,
        cease_communication_on=timezone.localdate(),
    )
    case = open_case()
    html = _page(client, collector, case)
    cease = _banner(html, "cease-banner")
    assert "Cease communication" in cease
    assert "No outbound call, e-mail, text, letter or visit may be made or scheduled" in cease
    assert "only the notices the law requires" in cease
    assert "(inbound)" in cease
    call_now = _banner(html, "call-now")
    assert "Calling now: not allowed." in call_now
    assert "FDCPA 805(c)" in call_now


def test_an_open_dispute_is_a_banner_saying_dunning_is_paused(client, open_case, collector):
    case = open_case(disputed=True, disputed_on=timezone.localdate())
    html = _page(client, collector, case)
    dispute = _banner(html, "dispute-banner")
    assert "Debt disputed" in dispute
    assert "dunning is paused until the dispute is resolved" in dispute
    assert "Resolve the dispute" in html


def test_channel_opt_outs_are_listed_and_block_the_call(client, open_case, collector, borrower):
    _prefs(borrower, time_zone=_zone(calling_allowed=True), call_opt_out=True)
    borrower.sms_opt_out = True
    borrower.save(update_fields=["sms_opt_out"])
    case = open_case()
    html = _page(client, collector, case)
    opt_outs = _banner(html, "opt-outs")
    assert "Opted out of:</strong> calls, SMS." in opt_outs
    call_now = _banner(html, "call-now")
    assert "Calling now: not allowed." in call_now
    assert "opted out of call contact" in call_now


def test_the_case_page_shows_the_open_plan_and_the_charge_off_panel(client, open_case, collector):
    case = open_case()
    html = _page(client, collector, case)
    assert "Request a hardship plan" in html
    assert 'id="id_charge_off_reason"' in html  # not a second id_reason beside the plan's
    assert html.count('id="id_reason"') == 1
    hardship_plan_request(
        loan=case.loan, kind="deferral", months=2, reason="lost hours", acting_user=collector
    )
    html = _page(client, collector, case)
    assert "Hardship plan" in html
    assert "lost hours" in html
    assert "Requested" in html
    # four-eyes: the requester is told they cannot decide it, and gets no decision button
    assert "Waiting for a manager's decision (not yours: you asked for it)" in html
    assert "Approve and apply" not in html


def test_a_manager_approves_from_the_case_page(client, open_case, collector, manager):
    case = open_case()
    hardship_plan_request(
        loan=case.loan, kind="deferral", months=1, reason="flood", acting_user=collector
    )
    html = _page(client, manager, case)
    assert "Approve and apply" in html
    plan = HardshipPlan.objects.get(loan=case.loan)
    response = client.post(
        f"/staff/collections/hardship-plans/{plan.pk}/decide/",
        {"decision": "approve", "next": f"/staff/collections/cases/{case.pk}/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/staff/collections/cases/{case.pk}/"
    assert "Active" in client.get(response["Location"]).content.decode()


def test_a_self_requested_plan_is_refused_with_the_reason(client, open_case, manager):
    case = open_case()
    plan = hardship_plan_request(
        loan=case.loan, kind="deferral", months=1, reason="fire", acting_user=manager
    )
    client.force_login(manager)
    assert (
        "Yours: someone else decides" in client.get("/staff/collections/workouts/").content.decode()
    )
    refused = client.post(
        f"/staff/collections/hardship-plans/{plan.pk}/decide/", {"decision": "approve"}
    )
    assert refused.status_code == 409
    assert 'role="alert"' in refused.content.decode()
    plan.refresh_from_db()
    assert plan.status == "requested"


# --------------------------------------------------------------------------- the queue


def _case(loan, *, priority: str, assignee) -> CollectionCase:
    return CollectionCase.objects.create(
        loan=loan,
        opened_on=loan.disbursed_on,
        bucket="1-29",
        priority=Decimal(priority),
        amount_past_due=Decimal("10.00"),
        dpd=1,
        assignee=assignee,
        reviewed_on=loan.disbursed_on,
    )


def test_the_queue_filters_by_product_and_by_a_named_collector(
    client, board, collector, collector2, manager
):
    car = _case(board("car"), priority="30.00", assignee=collector)
    home = _case(board("home"), priority="20.00", assignee=collector2)
    other = _case(board("other"), priority="10.00", assignee=collector)
    Loan.objects.filter(pk=home.loan_id).update(product_code="HOME", product_name="Home repair")
    CollectionCase.objects.filter(pk=home.pk).update(product_code="HOME")  # as if boarded so
    client.force_login(manager)

    page = client.get("/staff/collections/")
    html = page.content.decode()
    assert '<option value="HOME">Home repair</option>' in html
    assert f'<option value="{collector2.pk}">{collector2.username}</option>' in html
    assert "Home repair" in html  # the product column
    assert [c.pk for c in page.context["cases"]] == [car.pk, home.pk, other.pk]

    by_product = client.get("/staff/collections/", {"product": "HOME"})
    assert [c.pk for c in by_product.context["cases"]] == [home.pk]
    by_collector = client.get("/staff/collections/", {"assignee": str(collector.pk)})
    assert [c.pk for c in by_collector.context["cases"]] == [car.pk, other.pk]
    bad = client.get("/staff/collections/", {"product": "NOPE"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


def test_the_api_filters_by_product(staff_api_client, board, collector):
    home = _case(board("home"), priority="20.00", assignee=collector)
    _case(board("car"), priority="30.00", assignee=collector)
    Loan.objects.filter(pk=home.loan_id).update(product_code="HOME")
    CollectionCase.objects.filter(pk=home.pk).update(product_code="HOME")  # as if boarded so
    response = staff_api_client(collector).get("/api/v1/collections/cases/?product=HOME")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [home.pk]


# --------------------------------------------------------------------------- the portal


def test_the_portal_loan_page_shows_a_running_plan(client, board, borrower):
    loan = board("portal")
    client.force_login(borrower.user)
    assert 'id="hardship-notice"' not in client.get(f"/my-loans/{loan.pk}/").content.decode()
    Loan.objects.filter(pk=loan.pk).update(in_hardship=True)
    html = client.get(f"/my-loans/{loan.pk}/").content.decode()
    assert "You are on a hardship plan." in html
    assert f"/my-loans/{loan.pk}/hardship/" in html
