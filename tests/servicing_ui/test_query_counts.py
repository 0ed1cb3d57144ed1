"""Query counts of servicing's pages, pinned: each draws in a fixed number of queries however
long the loan's history or the borrower's list of loans (no N+1).

Each count is taken after one warm-up request (the session and the user's permission cache),
then again after more history (payments, fees, statements, another loan) was added.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from servicing.autopay import autopay_enrol
from servicing.fees import fee_assess
from servicing.models import DelinquencyHistory, Installment, Notification, RailTransfer
from servicing.services import payment_post
from servicing.statements import statement_generate
from tests.servicing.factories import board_loan


def _grow(loan, borrower, business_date, *, months: range) -> None:
    for month in months:
        on = date(2026, month, 1)
        business_date(on)
        payment_post(
            loan=loan, amount=Decimal("106.62"), effective_date=on, method="ach", acting_user=None
        )
        fee_assess(loan=loan, kind="manual", amount=Decimal("5.00"), reason="x", acting_user=None)
        statement_generate(loan=loan, period_end=on)
        _grow_servicing_history(loan, on, month)
    board_loan(borrower=borrower, application_ref=f"QC-UI-{months.start}")


def _grow_servicing_history(loan, on: date, month: int) -> None:
    """What close of business records: a bucket move, a reminder, an autopay enrolment (the
    previous one replaced) and an autopay debit."""
    DelinquencyHistory.objects.create(
        loan=loan, business_date=on, from_bucket="current", to_bucket="1-29", dpd=month
    )
    Notification.objects.create(
        loan=loan, kind=f"overdue_{month}", channel="email", business_date=on, recipient="c@x.test"
    )
    enrolment = autopay_enrol(
        loan=loan, account_number=f"00012345{month:02d}", routing_number="021000021"
    )
    installment = Installment.objects.get(loan=loan, number=month, schedule__is_current=True)
    RailTransfer.objects.create(
        loan=loan,
        kind=RailTransfer.Kind.AUTOPAY,
        installment=installment,
        enrolment=enrolment,
        business_date=on,
        amount=Decimal("106.62"),
        rail="sandbox",
    )


def _pinned(client, url, queries, grow, django_assert_num_queries):
    # some history first: a page with no fee at all skips the fee waivers' prefetch
    grow(range(2, 3))
    assert client.get(url).status_code == 200  # warm the session and permission caches
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    grow(range(3, 6))
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("suffix", "queries"),
    [
        ("", 26),
        ("journal/", 9),
        ("timeline/", 8),
        ("delinquency/", 8),
        ("notices/", 8),
        ("autopay/debits/", 8),
        ("autopay/enrolments/", 8),
    ],
)
def test_staff_loan_pages_are_constant(
    signed_in,
    servicing_agent,
    borrower,
    loan,
    business_date,
    django_assert_num_queries,
    suffix,
    queries,
):
    _pinned(
        signed_in(servicing_agent),
        f"/staff/loans/{loan.pk}/{suffix}",
        queries,
        lambda months: _grow(loan, borrower, business_date, months=months),
        django_assert_num_queries,
    )


@pytest.mark.parametrize(
    ("path", "queries"),
    [("/my-loans/", 8), ("/my-loans/{id}/", 16)],
)
def test_portal_pages_are_constant(
    signed_in, borrower, loan, business_date, django_assert_num_queries, path, queries
):
    _pinned(
        signed_in(borrower.user),
        path.format(id=loan.pk),
        queries,
        lambda months: _grow(loan, borrower, business_date, months=months),
        django_assert_num_queries,
    )
