"""The fast path of `payment_post`: a payment with nothing dated after it is applied alone,
on a partial book, without a replay. It must end exactly where the replay would, and its
query count is pinned so that it cannot creep back."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicing import services
from servicing.engine import PARTIAL_BATCH
from servicing.models import (
    Installment,
    JournalLine,
    Loan,
    LoanEvent,
    Payment,
    PaymentApplication,
    ScheduleVersion,
)
from servicing.services import business_date_set, fee_assess

from .factories import PaymentFactory, board_loan

D0 = date(2026, 1, 1)


@contextmanager
def replay_always():
    """Every payment takes the replay path (as if something were dated after it)."""
    real = services.loan_posting_state

    def later_always(**kwargs):
        _later, floor = real(**kwargs)
        return True, floor

    with mock.patch.object(services.payments, "loan_posting_state", later_always):
        yield


def _pay(loan, amount, on=None):
    return PaymentFactory(loan=loan, amount=Decimal(amount), effective_date=on, allow_credit=True)


def _book(loan):
    """Everything a payment writes, without ids: loan, schedule, payments, ledger."""
    loan = Loan.objects.get(pk=loan.pk)
    schedule = list(
        Installment.objects.filter(loan=loan, schedule__is_current=True)
        .order_by("number")
        .values_list(
            "due_date",
            "principal_due",
            "interest_due",
            "principal_paid",
            "interest_paid",
            "fee_paid",
            "cancelled",
            "status",
            "paid_on",
        )
    )
    payments = list(
        Payment.objects.filter(loan=loan)
        .order_by("id")
        .values_list(
            "amount",
            "effective_date",
            "status",
            "posted_on",
            "alloc_fees",
            "alloc_interest",
            "alloc_principal",
            "alloc_excess",
            "alloc_credit",
        )
    )
    applications = list(
        PaymentApplication.objects.filter(loan_id=loan.pk, reversed=False)
        .order_by("payment_id")
        .values_list("effective_date", "fees", "interest", "principal", "excess", "credit")
    )
    ledger = list(
        JournalLine.objects.filter(loan=loan)
        .values("account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("account")
        .values_list("account", "d", "c")
    )
    return {
        "loan": (
            loan.status,
            loan.principal_balance,
            loan.interest_balance,
            loan.fees_balance,
            loan.credit_balance,
            loan.accrued_interest_exact,
            loan.accrued_interest_posted,
            loan.last_accrual_date,
            loan.oldest_unpaid_due_date,
            loan.maturity_date,
        ),
        "schedule": schedule,
        "versions": ScheduleVersion.objects.filter(loan=loan).count(),
        "payments": payments,
        "applications": applications,
        "ledger": ledger,
        "events": list(
            LoanEvent.objects.filter(loan=loan).order_by("id").values_list("kind", "to_status")
        ),
    }


def _run(borrower, plan, *, replay: bool, **loan_kwargs):
    """Board a loan and post `plan` [(day, amount, fee)] each on its business date."""
    business_date_set(business_date=D0, acting_user=None)
    loan = board_loan(borrower=borrower, **loan_kwargs)
    for day, amount, fee in plan:
        business_date_set(business_date=D0 + timedelta(days=day), acting_user=None)
        if fee and Loan.objects.get(pk=loan.pk).status == Loan.Status.ACTIVE:
            fee_assess(loan=loan, kind="manual", amount=Decimal(fee), reason="t", acting_user=None)
        if Loan.objects.get(pk=loan.pk).status == Loan.Status.PAID_OFF:
            continue
        if replay:
            with replay_always():
                _pay(loan, amount)
        else:
            _pay(loan, amount)
    return _book(loan)


PLANS = {
    "partial payments": [(10, "20.00", None), (31, "106.62", None), (45, "5.00", None)],
    "late, then catching up": [(75, "50.00", None), (100, "300.00", None)],
    "paid ahead": [(5, "400.00", None), (20, "10.00", None), (40, "106.62", None)],
    "prepayment": [(31, "700.00", None), (62, "106.62", None)],
    "with fees": [(12, "30.00", "15.00"), (40, "10.00", "25.00"), (41, "100.00", None)],
    "payoff with credit": [(31, "106.62", None), (50, "2000.00", None)],
    "many past due": [(250, "30.00", None), (260, "900.00", None)],
}


@pytest.mark.parametrize("name", list(PLANS))
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"prepayment_option": "reamortize"},
        {"interest_model": "scheduled"},
        {"allocation_order": ("interest", "principal", "fees")},
    ],
    ids=["default", "reamortize", "scheduled", "interest-first"],
)
def test_fast_path_ends_where_the_replay_ends(borrower, name, options):
    plan = PLANS[name]
    fast = _run(borrower, plan, replay=False, **options)
    replayed = _run(borrower, plan, replay=True, **options)
    assert fast == replayed


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=45),  # days after the previous payment
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("700.00"), places=2),
            st.sampled_from([None, None, None, "15.00"]),  # sometimes a fee first
        ),
        min_size=1,
        max_size=6,
    ),
    reamortize=st.booleans(),
)
def test_fast_path_equals_replay_property(borrower, steps, reamortize):
    """Same dated payments (and fees), two loans: applied alone vs. replayed, same books."""
    plan, day = [], 0
    for gap, amount, fee in steps:
        day += gap
        plan.append((day, str(amount), fee))
    option = {"prepayment_option": "reamortize" if reamortize else "reduce_term"}
    assert _run(borrower, plan, replay=False, **option) == _run(
        borrower, plan, replay=True, **option
    )


def test_a_backdated_payment_still_replays(loan, business_date):
    business_date(date(2026, 2, 10))
    _pay(loan, "50.00", date(2026, 2, 10))
    with mock.patch("servicing.services.payments.replay", wraps=services.replay) as replay:
        _pay(loan, "20.00", date(2026, 2, 5))
    assert replay.call_count == 1
    with mock.patch("servicing.services.payments.replay", wraps=services.replay) as replay:
        _pay(loan, "20.00", date(2026, 2, 10))
    assert replay.call_count == 0


def test_partial_book_with_more_unpaid_than_a_batch(borrower, business_date):
    """More unpaid installments than one read takes: the book reads them all."""
    loan = board_loan(borrower=borrower, n_periods=24, principal="2400.00")
    business_date(D0 + timedelta(days=31 * (PARTIAL_BATCH + 2)))
    payment = _pay(loan, "500.00")
    loan.refresh_from_db()
    paid = Installment.objects.filter(loan=loan, status=Installment.Status.PAID).count()
    assert paid >= 3
    assert payment.alloc_principal + payment.alloc_interest == Decimal("500.00")
    first_unpaid = (
        Installment.objects.filter(loan=loan, schedule__is_current=True)
        .exclude(status=Installment.Status.PAID)
        .order_by("number")
        .first()
    )
    assert loan.oldest_unpaid_due_date == first_unpaid.due_date


def test_paying_the_last_loaded_installment_finds_the_next_unpaid(loan, business_date):
    business_date(date(2026, 2, 1))
    _pay(loan, "106.59")  # the first installment, exactly
    loan.refresh_from_db()
    second = Installment.objects.get(loan=loan, number=2)
    assert loan.oldest_unpaid_due_date == second.due_date


# --------------------------------------------------------------------------- query counts

# A non-backdated payment on a loan without fees, inside payment_post: lock (with the
# business date), posting state (later payments, replay floor), installments, then its
# writes: payment, journal entry, journal lines, application, installment, loan, the loan's
# event and the webhook outbox's payment.posted event. On SQLite each is its own statement:
# 11. On PostgreSQL the writes wait and go out as one statement of data-modifying CTEs
# (lendcore.core.write_batch; the keys of the payment, entry and application are drawn by
# the posting state's read): 4. Through the API the idempotent answer is one more write: a
# statement of its own on SQLite, in the payment's statement on PostgreSQL.
POSTGRES = connection.vendor == "postgresql"
SERVICE_QUERIES = 4 if POSTGRES else 11
ANSWER_QUERIES = 0 if POSTGRES else 1


def test_non_backdated_payment_query_count_is_pinned(
    loan, business_date, django_assert_num_queries
):
    business_date(date(2026, 2, 1))
    _pay(loan, "10.00")  # the loan accrued through the business date already
    with django_assert_num_queries(SERVICE_QUERIES + 2):  # + the durable block's savepoint
        _pay(loan, "10.00")


def test_api_payment_query_count_is_pinned(
    staff_api_client, servicing_agent, borrower, business_date, django_assert_num_queries
):
    """Through the API, by a servicing agent: permissions, visibility, the payment, and the
    idempotency record in the payment's transaction."""
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 2, 1))
    client = staff_api_client(servicing_agent)
    body = {"amount": "10.00", "method": "ach", "reference": "q"}
    assert (
        client.post(
            f"/api/v1/loans/{loan.pk}/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k0"
        ).status_code
        == 201
    )
    client.force_authenticate(type(servicing_agent).objects.get(pk=servicing_agent.pk))  # cold
    # the agent's permissions (one query, cached on the user), the payment (its lock is the
    # visibility check: staff see every loan), the idempotent answer
    with django_assert_num_queries(1 + SERVICE_QUERIES + ANSWER_QUERIES + 2):
        response = client.post(
            f"/api/v1/loans/{loan.pk}/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
    assert response.status_code == 201
    # 31 days of 12 % on 1,200.00 is 12.23; the first 10.00 paid 10.00 of it
    assert response.json()["allocation"] == {
        "fees": "0.00",
        "interest": "2.23",
        "principal": "7.77",
        "excess": "0.00",
    }


def test_api_payment_with_a_real_token(
    servicing_agent, borrower, business_date, django_assert_num_queries
):
    """The payments API authenticates a token in one query; bad or inactive tokens are 401."""
    from rest_framework.test import APIClient

    from lendcore.accounts.services import api_token_issue

    loan = board_loan(borrower=borrower)
    business_date(date(2026, 2, 1))
    token = api_token_issue(user=servicing_agent).key
    body = {"amount": "10.00", "method": "ach"}
    url = f"/api/v1/loans/{loan.pk}/payments/"

    def post(key, idem):
        return APIClient().post(
            url, body, format="json", HTTP_AUTHORIZATION=f"Token {key}", HTTP_IDEMPOTENCY_KEY=idem
        )

    assert post(token, "t0").status_code == 201
    # token with the agent's permissions, the payment, the idempotency record
    with django_assert_num_queries(1 + SERVICE_QUERIES + ANSWER_QUERIES + 2):
        assert post(token, "t1").status_code == 201
    # refused as every other endpoint refuses it (DRF's answer under the settings' classes)
    elsewhere = APIClient().get("/api/v1/business-date/", HTTP_AUTHORIZATION="Token nope")
    bad = post("nope", "t2")
    assert bad.status_code == elsewhere.status_code == 403
    assert bad.json() == elsewhere.json()
    servicing_agent.is_active = False
    servicing_agent.save(update_fields=["is_active"])
    inactive = post(token, "t3")
    assert inactive.status_code == elsewhere.status_code
    assert "inactive" in inactive.json()["message"]
    assert Payment.objects.filter(loan=loan).count() == 2


def test_a_token_carries_its_users_permissions_and_no_more(
    servicing_agent, loan_officer, borrower, business_date, django_assert_num_queries
):
    """The token query fills the staff member's permissions: a role without the payments'
    actions is refused (403) on that one query, and a user granted nothing is no staff."""
    from rest_framework.test import APIClient

    from lendcore.accounts.services import api_token_issue

    loan = board_loan(borrower=borrower)
    business_date(date(2026, 2, 1))
    url = f"/api/v1/loans/{loan.pk}/payments/"
    body = {"amount": "10.00", "method": "ach"}
    officer = api_token_issue(user=loan_officer).key
    with django_assert_num_queries(1):
        refused = APIClient().post(
            url,
            body,
            format="json",
            HTTP_AUTHORIZATION=f"Token {officer}",
            HTTP_IDEMPOTENCY_KEY="o",
        )
    assert refused.status_code == 403
    own = api_token_issue(user=borrower.user).key
    response = APIClient().get(f"/api/v1/loans/{loan.pk}/", HTTP_AUTHORIZATION=f"Token {own}")
    assert response.status_code == 200  # the borrower's own loan, as a borrower
    agent = api_token_issue(user=servicing_agent).key
    response = APIClient().get(f"/api/v1/loans/{loan.pk}/", HTTP_AUTHORIZATION=f"Token {agent}")
    assert response.status_code == 200
    assert Payment.objects.filter(loan=loan).count() == 0
