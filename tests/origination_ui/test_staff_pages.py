"""The staff queue and the application page: who may see them and what they show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from origination.models import Application, AuditEntry

pytestmark = pytest.mark.django_db

QUEUE = reverse("origination:staff-applications")


def test_the_queue_replaces_the_shell_placeholder_at_the_nav_path():
    # Given the nav's url name, when it is resolved, then it is this app's queue.
    assert reverse("origination:staff-applications") == QUEUE == "/staff/applications/"
    assert reverse("origination:portal-apply") == "/apply/"


@pytest.mark.parametrize("role", ["loan_officer", "underwriter", "admin_user"])
def test_queue_renders_for_application_roles(request, client_for, decided, role):
    # Given a referred and an approved application
    referred = decided("5555")
    decided("9999")
    # When a staff member who works applications opens the queue
    response = client_for(request.getfixturevalue(role)).get(QUEUE)
    # Then both are listed with counts per status
    assert response.status_code == 200
    body = response.content.decode()
    assert f"#{referred.pk}" in body
    assert 'data-status="referred"' in body
    assert 'Referred <span class="chip-count">1</span>' in body
    assert response.context["total"] == 2


@pytest.mark.parametrize("role", ["servicing_agent", "collector"])
def test_queue_is_forbidden_to_other_staff(request, client_for, role):
    response = client_for(request.getfixturevalue(role)).get(QUEUE)
    assert response.status_code == 403


def test_queue_is_forbidden_to_a_borrower_and_asks_anonymous_to_log_in(client_for, borrower):
    assert client_for(borrower.user).get(QUEUE).status_code == 403
    response = client_for(None).get(QUEUE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_queue_filters_by_status_and_product(client_for, loan_officer, decided, product):
    referred = decided("5555")
    approved = decided("9999")
    client = client_for(loan_officer)
    response = client.get(QUEUE, {"status": "referred", "product": product.pk})
    listed = [row["application"].pk for row in response.context["rows"]]
    assert listed == [referred.pk]
    response = client.get(QUEUE, {"status": "approved"})
    assert [row["application"].pk for row in response.context["rows"]] == [approved.pk]


def test_queue_shows_sla_age_and_assigned_officer(client_for, loan_officer, make_application):
    make_application("9999", assigned_officer=loan_officer)
    response = client_for(loan_officer).get(QUEUE, {"mine": "on"})
    rows = response.context["rows"]
    assert len(rows) == 1
    assert rows[0]["age"].endswith("m")
    assert loan_officer.username in response.content.decode()


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(QUEUE).status_code == 200
    return len(ctx.captured_queries)


def test_queue_query_count_does_not_grow_with_the_rows(client_for, loan_officer, make_application):
    # Given a warmed-up client and two applications
    client = client_for(loan_officer)
    make_application("9999", assigned_officer=loan_officer)
    make_application("5555")
    client.get(QUEUE)
    few = _queue_queries(client)
    # When ten more, with officers, are added
    for _ in range(10):
        make_application("9999", assigned_officer=loan_officer)
    # Then the page costs the same number of queries
    assert _queue_queries(client) == few
    assert few <= 9


def test_queue_is_paginated(client_for, loan_officer, make_application):
    for _ in range(27):
        make_application("9999", with_documents=False)
    client = client_for(loan_officer)
    first = client.get(QUEUE)
    assert len(first.context["rows"]) == 25
    second = client.get(QUEUE, {"page": 2})
    assert len(second.context["rows"]) == 2
    assert "Page 2 of 2" in second.content.decode()


def detail_url(application) -> str:
    return reverse("origination:staff-application", args=[application.pk])


def test_detail_shows_masked_ssn_trace_checklist_bureau_and_timeline(
    client_for, underwriter, decided
):
    # Given a referred application decided by the sandbox
    application = decided("5555")
    # When an underwriter opens it
    response = client_for(underwriter).get(detail_url(application))
    body = response.content.decode()
    # Then the page shows the masked SSN with a reveal button, the trace and the checks
    assert response.status_code == 200
    assert "***-**-5555" in body
    assert "123-45-5555" not in body
    assert 'data-action="reveal-ssn"' in body
    assert "Decision trace" in body
    assert body.count('class="rule-pass"') + body.count('class="rule-fail"') == len(
        response.context["trace"]
    )
    assert "&#10007; Fired" in body  # the refer rule (score under 680)
    assert "650" in body  # the bureau score
    assert 'data-doc-type="id_proof"' in body
    assert "Timeline" in body
    assert "automated refer" in body
    assert 'data-action="approve"' in body
    assert 'data-action="decline"' in body


def test_loan_officer_sees_no_reveal_button_and_no_underwriting(client_for, loan_officer, decided):
    application = decided("5555")
    body = client_for(loan_officer).get(detail_url(application)).content.decode()
    assert 'data-action="reveal-ssn"' not in body
    assert 'data-action="approve"' not in body


def test_detail_is_404_for_unknown_and_403_for_other_staff(client_for, loan_officer, collector):
    assert client_for(loan_officer).get("/staff/applications/999999/").status_code == 404
    assert client_for(collector).get("/staff/applications/999999/").status_code == 403


def test_detail_shows_the_offer_with_its_tila_box(client_for, loan_officer, decided):
    application = decided("9999")
    body = client_for(loan_officer).get(detail_url(application)).content.decode()
    offer = application.offer
    assert "ANNUAL PERCENTAGE RATE" in body
    assert f"{offer.apr}%" in body
    assert "Payment schedule" in body


def test_reveal_ssn_goes_through_the_audited_service(client_for, underwriter, decided):
    application = decided("5555")
    url = reverse("origination:staff-reveal-ssn", args=[application.pk])
    # When an underwriter (reveal_ssn) asks, by htmx
    response = client_for(underwriter).post(url, HTTP_HX_REQUEST="true")
    # Then the full SSN comes back, not cached, and an audit row is written
    assert response.status_code == 200
    assert "123-45-5555" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="ssn_revealed", actor=underwriter).count() == 1
    # And without htmx the whole page is rendered with the SSN
    page = client_for(underwriter).post(url)
    assert "123-45-5555" in page.content.decode()


def test_reveal_ssn_is_forbidden_without_the_permission(client_for, loan_officer, decided):
    application = decided("5555")
    url = reverse("origination:staff-reveal-ssn", args=[application.pk])
    assert client_for(loan_officer).post(url).status_code == 403
    assert not AuditEntry.objects.filter(action="ssn_revealed").exists()
    # and a GET never reveals
    assert Application.objects.get(pk=application.pk).status == "referred"
