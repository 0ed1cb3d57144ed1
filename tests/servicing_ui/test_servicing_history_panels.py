"""The staff loan page's delinquency, reminders and autopay panels (issue 13): what close of
business recorded over a few days shows on the page; the lists are bounded with a link to
the whole list; a servicing agent enrols or cancels autopay on the borrower's request."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from servicing.autopay import autopay_enrol
from servicing.cob.runner import cob_close_through
from servicing.models import AutopayEnrolment, DelinquencyHistory, Notification, RailTransfer
from servicing.servicing_history_reads import RECENT

NSF_ACCOUNT = "5550001"  # the sandbox rail returns its debits (R01)
ROUTING = "021000021"


def _close_through(day: date) -> None:
    results = cob_close_through(through=day)
    assert all(outcome == "closed" for _, outcome, _ in results), results


def _form(prefix: str, **fields) -> dict[str, str]:
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    data.setdefault(f"{prefix}-idempotency_key", str(uuid.uuid4()))
    return data


def test_the_panels_show_what_close_of_business_recorded(
    signed_in, servicing_agent, borrower, loan
):
    # Given Carol enrolled her loan in autopay from an account that will bounce, on 02-01,
    # its first due date
    autopay_enrol(
        loan=loan,
        account_number=NSF_ACCOUNT,
        routing_number=ROUTING,
        acting_user=borrower.user,
        authorized=True,
    )

    # When close of business runs 02-01 .. 02-08: the debit is sent, returned on 02-03
    # (NSF), the loan falls behind, the 7-days-overdue reminder goes out on 02-08
    _close_through(date(2026, 2, 8))

    # Then the recorded history is there
    assert RailTransfer.objects.get(loan=loan).status == RailTransfer.Status.RETURNED
    move = DelinquencyHistory.objects.get(loan=loan)
    assert (move.from_bucket, move.to_bucket) == ("current", "1-29")
    notice = Notification.objects.get(loan=loan)
    assert notice.kind == "overdue_7"

    # And the staff loan page shows each
    page = signed_in(servicing_agent).get(f"/staff/loans/{loan.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    delinquency = html[html.index('id="delinquency"') : html.index('id="notices"')]
    assert move.business_date.isoformat() in delinquency
    assert "current" in delinquency
    assert "→ 1-29" in delinquency
    assert f'<td class="num">{move.dpd}</td>' in delinquency
    notices = html[html.index('id="notices"') : html.index('id="autopay"')]
    assert "Overdue (7 days)" in notices
    assert "Email" in notices
    assert "carol@example.com" in notices
    assert "2026-02-08" in notices
    autopay = html[html.index('id="autopay"') : html.index('id="journal"')]
    assert "****0001" in autopay
    assert "•••••0021" in autopay  # the routing number masked
    assert ROUTING not in autopay
    assert NSF_ACCOUNT not in autopay
    assert borrower.user.get_username() in autopay  # enrolled by
    assert "Returned" in autopay
    assert "R01" in autopay
    assert "#1 due 2026-02-01" in autopay


def test_the_lists_are_bounded_with_a_link_to_all(signed_in, servicing_agent, loan):
    # Given more bucket moves than the page shows
    start = date(2025, 1, 1)
    for n in range(RECENT + 2):
        DelinquencyHistory.objects.create(
            loan=loan,
            business_date=start + timedelta(days=n),
            from_bucket="current",
            to_bucket="1-29",
            dpd=n + 1,
        )
    client = signed_in(servicing_agent)

    # Then the loan page shows the latest RECENT and links to the whole history
    page = client.get(f"/staff/loans/{loan.pk}/")
    assert len(page.context["history"]["delinquency"].rows) == RECENT
    assert page.context["history"]["delinquency"].more
    html = page.content.decode()
    assert f'href="/staff/loans/{loan.pk}/delinquency/"' in html
    newest = (start + timedelta(days=RECENT + 1)).isoformat()
    oldest = start.isoformat()
    assert newest in html
    assert oldest not in html

    # And the whole history page lists all, newest first
    whole = client.get(f"/staff/loans/{loan.pk}/delinquency/")
    assert whole.status_code == 200
    body = whole.content.decode()
    assert oldest in body
    assert body.index(newest) < body.index(oldest)
    for suffix in ("notices/", "autopay/debits/", "autopay/enrolments/"):
        assert client.get(f"/staff/loans/{loan.pk}/{suffix}").status_code == 200


def test_an_agent_enrols_and_cancels_on_the_borrowers_request(signed_in, servicing_agent, loan):
    client = signed_in(servicing_agent)

    # The authorization must be confirmed; a bad routing number names the field
    refused = client.post(
        f"/staff/loans/{loan.pk}/autopay/",
        _form("autopay", account_number="000123456789", routing_number=ROUTING),
    )
    assert refused.status_code == 400
    assert "authorized" in refused.context["forms"]["autopay"].errors
    bad = client.post(
        f"/staff/loans/{loan.pk}/autopay/",
        _form(
            "autopay", account_number="000123456789", routing_number="021000022", authorized="on"
        ),
    )
    assert bad.status_code == 400
    assert list(bad.context["forms"]["autopay"].errors) == ["routing_number"]
    assert not AutopayEnrolment.objects.exists()

    # When the agent enrols with the borrower's authorization on file
    done = client.post(
        f"/staff/loans/{loan.pk}/autopay/",
        _form("autopay", account_number="000123456789", routing_number=ROUTING, authorized="on"),
    )
    assert done.status_code == 302
    enrolment = AutopayEnrolment.objects.get(loan=loan, active=True)
    assert enrolment.created_by == servicing_agent
    html = client.get(f"/staff/loans/{loan.pk}/").content.decode()
    assert "****6789" in html
    assert "Cancel autopay" in html

    # When the agent cancels it
    cancelled = client.post(f"/staff/loans/{loan.pk}/autopay/cancel/", _form("autopaycancel"))
    assert cancelled.status_code == 302
    enrolment.refresh_from_db()
    assert not enrolment.active
    html = client.get(f"/staff/loans/{loan.pk}/").content.decode()
    assert "Not enrolled in autopay." in html
    assert "Earlier enrolments" in html

    # A second cancel is refused on the page (409), nothing changed
    again = client.post(f"/staff/loans/{loan.pk}/autopay/cancel/", _form("autopaycancel"))
    assert again.status_code == 409
    assert "not enrolled in autopay" in again.content.decode()


@pytest.mark.parametrize("role", ["loan_officer"])
def test_roles_without_the_action_are_refused(signed_in, request, loan, role):
    client = signed_in(request.getfixturevalue(role))
    response = client.post(
        f"/staff/loans/{loan.pk}/autopay/",
        _form("autopay", account_number="000123456789", routing_number=ROUTING, authorized="on"),
    )
    assert response.status_code == 403
    assert client.get(f"/staff/loans/{loan.pk}/delinquency/").status_code == 403
    assert not AutopayEnrolment.objects.exists()
