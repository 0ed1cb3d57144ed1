"""Boarding loans for tests through the real `loan_board`."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from lendcore.finance.schedule import LoanTerms
from servicing.services import loan_board
from servicing.types import LateFeePolicy, LoanBoarding

_refs = itertools.count(1)


def boarding_for(
    *,
    principal: str = "1200.00",
    annual_rate: str = "0.12",
    n_periods: int = 12,
    disbursed_on: date = date(2026, 1, 1),
    first_due_date: date | None = None,
    day_count: str = "ACT/365F",
    interest_model: str = "daily_simple",
    prepayment_option: str = "reduce_term",
    allocation_order: tuple[str, ...] = ("fees", "interest", "principal"),
    nsf_fee: str = "25.00",
    late_fee: str = "15.00",
    origination_fee: str = "0.00",
    product_code: str = "PERSONAL",
    frequency: str = "monthly",
    amortization: str = "level",
    payment_rounding: str = "0.01",
    grace_days: int = 10,
    late_fee_kind: str = "flat",
) -> LoanBoarding:
    terms = LoanTerms(
        principal=Decimal(principal),
        annual_rate=Decimal(annual_rate),
        n_periods=n_periods,
        frequency=frequency,
        disbursement_date=disbursed_on,
        first_due_date=first_due_date,
        day_count=day_count,
        amortization=amortization,
        payment_rounding=Decimal(payment_rounding),
    )
    return LoanBoarding(
        terms=terms,
        product_code=product_code,
        product_name=product_code.title(),
        interest_model=interest_model,
        origination_fee=Decimal(origination_fee),
        late_fee=LateFeePolicy(kind=late_fee_kind, amount=Decimal(late_fee), grace_days=grace_days),
        nsf_fee=Decimal(nsf_fee),
        allocation_order=allocation_order,
        prepayment_option=prepayment_option,
    )


def board_loan(*, borrower, application_ref: str | None = None, acting_user=None, **kwargs):
    boarding = boarding_for(**kwargs)
    return loan_board(
        boarding=boarding,
        borrower=borrower,
        application_ref=application_ref or f"APP-{next(_refs)}",
        disbursed_on=boarding.terms.disbursement_date,
        method="ach",
        reference="DISB-1",
        acting_user=acting_user,
    )
