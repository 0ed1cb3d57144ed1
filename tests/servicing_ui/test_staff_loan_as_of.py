"""The staff loan page's date picker (`?as_of=`): the loan as of a past date in its own
block with an "As of" banner and a link back to today; a bad date is the form's error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from servicing.cob.runner import cob_close_through
from servicing.loan_as_of import loan_as_of
from servicing.services import payment_post


@pytest.fixture
def paid_late(loan, servicing_agent):
    """Carol's loan closed through 2026-02-20 unpaid, then paid in full on the 21st."""
    cob_close_through(through=date(2026, 2, 20))
    payment_post(loan=loan, amount=Decimal("106.62"), method="ach", acting_user=servicing_agent)
    return loan


def test_the_page_shows_the_loan_as_of_the_picked_date(signed_in, servicing_agent, paid_late):
    client = signed_in(servicing_agent)
    url = f"/staff/loans/{paid_late.pk}/"

    response = client.get(url, {"as_of": "2026-02-15"})

    assert response.status_code == 200
    html = response.content.decode()
    state = loan_as_of(paid_late, date(2026, 2, 15))
    assert 'id="as-of-banner">As of 2026-02-15</h3>' in html
    assert f'id="as-of-dpd">{state["dpd"]}</p>' in html
    assert state["dpd"] == 14
    assert f'id="as-of-bucket">{state["delinquency_bucket"]}</p>' in html
    assert 'id="as-of-status">active</span>' in html
    assert 'id="as-of-schedule"' in html
    assert "overdue" in html.split('id="as-of-schedule"')[1].split("</table>")[0]
    assert f'href="{url}" id="as-of-today">Back to today</a>' in html
    # without a date: the picker only, today's page
    today = client.get(url).content.decode()
    assert 'id="as-of-form"' in today
    assert 'id="as-of-view"' not in today


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("not-a-date", "Enter a date"),
        ("", "Enter a date"),
        ("2026-03-01", "business date"),
        ("2025-12-01", "disbursement date"),
    ],
)
def test_a_bad_date_is_the_forms_error_not_a_500(signed_in, servicing_agent, loan, as_of, message):
    response = signed_in(servicing_agent).get(f"/staff/loans/{loan.pk}/", {"as_of": as_of})

    assert response.status_code == 400
    html = response.content.decode()
    errors = html.split('id="as-of-errors">')[1].split("</ul>")[0]
    assert message in errors
    assert 'id="as-of-view"' not in html
