"""Close of business's one-statement late fees (PostgreSQL) write exactly the rows of the
portable path: flat, percent and capped policies, a paid installment, within and past grace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from servicing.cob.close import close_range
from servicing.cob.steps import Scope, StepClock, late_fees, transitions
from servicing.fees import late_fees_charge
from servicing.ledger import ledger_problems
from servicing.models import Fee, Installment, JournalLine, Loan, LoanEvent
from servicing.services import business_date_set, payment_post
from tests.servicing.factories import board_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

START = date(2026, 1, 1)
LAST_GRACE_DAY = date(2026, 2, 11)  # the first installment is due 02-01, 10 grace days


class Rollback(Exception):
    pass


def _state(ids):
    fees = list(
        Fee.objects.filter(loan_id__in=ids)
        .order_by("loan_id", "installment__number")
        .values_list(
            "loan_id",
            "kind",
            "amount",
            "paid_amount",
            "waived_amount",
            "assessed_on",
            "installment__number",
            "reason",
            "entry__entry_type",
            "entry__effective_date",
            "entry__business_date",
            "entry__loan_id",
            "entry__reference",
            "entry__memo",
        )
    )
    lines = sorted(
        JournalLine.objects.filter(loan_id__in=ids, entry__entry_type="fee").values_list(
            "loan_id", "account", "debit", "credit"
        )
    )
    events = sorted(
        (e.loan_id, e.reason, e.business_date, e.data["kind"], e.data["amount"])
        for e in LoanEvent.objects.filter(loan_id__in=ids, kind="fee")
    )
    balances = list(Loan.objects.filter(pk__in=ids).order_by("pk").values_list("fees_balance"))
    return fees, lines, events, balances


def test_sql_late_fees_equal_the_portable_ones(borrower):
    business_date_set(business_date=START, acting_user=None)
    loans = {
        name: board_loan(borrower=borrower, application_ref=f"LF-{name}", disbursed_on=START)
        for name in ("flat", "percent", "capped", "paid", "no_fee")
    }
    Loan.objects.filter(pk=loans["percent"].pk).update(
        late_fee_kind="percent", late_fee_amount=Decimal("5.0000")
    )
    Loan.objects.filter(pk=loans["capped"].pk).update(
        late_fee_kind="percent", late_fee_amount=Decimal("50.0000"), late_fee_cap=Decimal("20.00")
    )
    Loan.objects.filter(pk=loans["no_fee"].pk).update(late_fee_amount=Decimal("0"))
    first = Installment.objects.get(loan=loans["paid"], number=1, schedule__is_current=True)
    business_date_set(business_date=date(2026, 2, 1), acting_user=None)
    payment_post(loan=loans["paid"], amount=first.remaining, method="ach", acting_user=None)
    ids = sorted(loan.pk for loan in loans.values())

    # Within grace through 02-11: closing those days charges nothing
    business_date_set(business_date=LAST_GRACE_DAY, acting_user=None)
    with transaction.atomic():
        close_range(lo=ids[0], hi=ids[-1], business_date=LAST_GRACE_DAY, clock=StepClock())
    assert not Fee.objects.filter(loan_id__in=ids).exists()

    # The next day both paths charge the installments now out of grace
    day = date(2026, 2, 12)
    business_date_set(business_date=day, acting_user=None)
    scope = Scope(lo=ids[0], hi=ids[-1], day=day, business_date=day)
    try:
        with transaction.atomic():
            transitions(scope)
            charged = late_fees_charge(
                installments=scope.installments(), day=scope.day, business_date=scope.business_date
            )
            assert len(charged) == 3
            portable = _state(ids)
            raise Rollback
    except Rollback:
        pass
    with transaction.atomic():
        transitions(scope)
        assert late_fees(scope) == 3
    assert _state(ids) == portable
    amounts = {row[0]: row[2] for row in portable[0]}
    assert amounts[loans["flat"].pk] == Decimal("15.00")
    assert amounts[loans["capped"].pk] == Decimal("20.00")
    assert Decimal("0") < amounts[loans["percent"].pk] < Decimal("15.00")
    assert ledger_problems() == []

    # And once charged, never again
    with transaction.atomic():
        assert late_fees(scope) == 0
