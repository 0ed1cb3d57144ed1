"""Close of business's one-statement statements (PostgreSQL) give exactly the rows of the
portable grouped-query path on a book with history: payments, a fee and its waiver, a
previous statement, a payoff, a charge-off candidate's arrears."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from servicing.cob.close import close_range
from servicing.cob.steps import Scope, StepClock, statements, statements_orm
from servicing.fees import fee_assess, fee_waive
from servicing.models import Installment, Loan, Statement
from servicing.services import business_date_set, payment_post
from tests.servicing.factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

START = date(2026, 1, 15)
CYCLE = date(2026, 4, 15)


class Rollback(Exception):
    pass


def _rows(ids):
    return list(
        Statement.objects.filter(loan_id__in=ids)
        .order_by("loan_id", "period_end")
        .values_list(
            "loan_id",
            "period_start",
            "period_end",
            "opening_balance",
            "closing_balance",
            "payments_total",
            "interest_charged",
            "fees_charged",
            "past_due_amount",
            "next_due_date",
            "next_due_amount",
        )
    )


def _pay(loan, amount, on):
    business_date_set(business_date=on, acting_user=None)
    payment_post(
        loan=loan,
        amount=Decimal(amount),
        effective_date=on,
        method="ach",
        acting_user=None,
        allow_credit=True,
    )


def test_sql_statements_equal_the_portable_ones(borrower, admin_user):
    business_date_set(business_date=START, acting_user=None)
    loans = {
        name: board_loan(borrower=borrower, application_ref=f"ST-{name}", disbursed_on=START)
        for name in ("current", "behind", "fees", "paid_off")
    }
    loans["scheduled"] = board_loan(
        borrower=borrower,
        application_ref="ST-scheduled",
        disbursed_on=START,
        interest_model="scheduled",
    )
    loans["other_cycle"] = board_loan(
        borrower=borrower, application_ref="ST-other-cycle", disbursed_on=date(2026, 1, 20)
    )
    for due in (date(2026, 2, 15), date(2026, 3, 15)):
        for name in ("current", "fees", "scheduled"):
            inst = Installment.objects.get(loan=loans[name], due_date=due)
            _pay(loans[name], inst.remaining, due)
    _pay(loans["behind"], "50.00", date(2026, 2, 20))
    business_date_set(business_date=date(2026, 3, 1), acting_user=None)
    fee = fee_assess(
        loan=loans["fees"],
        kind="manual",
        amount=Decimal("20.00"),
        reason="Card replacement",
        acting_user=admin_user,
    )
    fee_waive(fee=fee, amount=Decimal("5.00"), reason="Goodwill", acting_user=admin_user)
    _pay(loans["paid_off"], "5000.00", date(2026, 4, 2))
    assert Loan.objects.get(pk=loans["paid_off"].pk).status == Loan.Status.PAID_OFF
    ids = sorted(loan.pk for loan in loans.values())

    # Given last month's statements (so this period starts after them) and the loans closed
    # through the day before the cycle date
    business_date_set(business_date=date(2026, 3, 15), acting_user=None)
    march = Scope(lo=ids[0], hi=ids[-1], day=date(2026, 3, 15), business_date=date(2026, 3, 15))
    assert statements_orm(march) == 5
    business_date_set(business_date=CYCLE, acting_user=None)
    with transaction.atomic():
        close_range(lo=ids[0], hi=ids[-1], business_date=CYCLE - date.resolution, clock=StepClock())
    scope = Scope(lo=ids[0], hi=ids[-1], day=CYCLE, business_date=CYCLE)
    try:
        with transaction.atomic():
            assert statements_orm(scope) > 0
            portable = _rows(ids)
            raise Rollback
    except Rollback:
        pass
    with transaction.atomic():
        made = statements(scope)
    assert made > 0
    assert _rows(ids) == portable
    # When the one-statement path writes the same day's statements, they are the same rows
    assert {row[1] for row in portable if row[2] == CYCLE} == {date(2026, 3, 16)}
    assert {row[0] for row in portable if row[2] == CYCLE} >= {
        loans[n].pk for n in ("current", "behind", "fees", "paid_off", "scheduled")
    }
