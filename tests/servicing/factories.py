"""factory_boy factories for servicing, built through the services (so rows are valid).

`LoanFactory(borrower=...)` boards a loan through the real `loan_board` (the terms of
`boarding_for`, each overridable: `LoanFactory(borrower=b, principal="2400.00",
n_periods=24)`); traits: `delinquent=True`, `in_hardship=True`, `non_accrual=True` (set by
`loan_flags_set`). `PaymentFactory(loan=...)` posts a payment through `payment_post`.
`board_loan(...)` is the same as `LoanFactory(...)`, for the tests written before it.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import factory

from lendcore.finance.schedule import LoanTerms
from servicing.models import Loan, Payment
from servicing.services import loan_board, loan_flags_set, payment_post
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


FLAGS = ("delinquent", "in_hardship", "non_accrual")


class LoanFactory(factory.django.DjangoModelFactory):
    """A boarded loan; any keyword of `boarding_for` overrides a term."""

    class Meta:
        model = Loan

    class Params:
        delinquent = factory.Trait(flag_delinquent=True)
        in_hardship = factory.Trait(flag_in_hardship=True)
        non_accrual = factory.Trait(flag_non_accrual=True)

    borrower = None
    application_ref = factory.LazyFunction(lambda: f"APP-{next(_refs)}")
    acting_user = None
    flag_delinquent = False
    flag_in_hardship = False
    flag_non_accrual = False

    @classmethod
    def _create(cls, model_class: type[Loan], *args: Any, **kwargs: Any) -> Loan:
        borrower = kwargs.pop("borrower")
        application_ref = kwargs.pop("application_ref")
        acting_user = kwargs.pop("acting_user")
        flags = {name: kwargs.pop(f"flag_{name}") for name in FLAGS}
        boarding = boarding_for(**kwargs)
        loan = loan_board(
            boarding=boarding,
            borrower=borrower,
            application_ref=application_ref,
            disbursed_on=boarding.terms.disbursement_date,
            method="ach",
            reference="DISB-1",
            acting_user=acting_user,
        )
        if any(flags.values()):
            loan = loan_flags_set(
                loan=loan,
                acting_user=acting_user,
                reason="test",
                **{name: True for name, value in flags.items() if value},
            )
        return loan


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment posted through `payment_post` (on the business date unless dated)."""

    class Meta:
        model = Payment

    loan = None
    amount = Decimal("100.00")
    effective_date = None
    method = "ach"
    reference = ""
    acting_user = None
    allow_credit = False

    @classmethod
    def _create(cls, model_class: type[Payment], *args: Any, **kwargs: Any) -> Payment:
        return payment_post(**kwargs)


def board_loan(*, borrower, application_ref: str | None = None, acting_user=None, **kwargs):
    """`LoanFactory(...)` under the name the older tests use."""
    if application_ref is not None:
        kwargs["application_ref"] = application_ref
    return LoanFactory(borrower=borrower, acting_user=acting_user, **kwargs)
