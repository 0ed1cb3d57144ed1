"""What the servicing API views share: money fields, output shapes, the permission check."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from lendcore.accounts.selectors import user_can
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.errors import PermissionDenied
from servicing import selectors
from servicing.models import Loan, Payment

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}


def money_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, **kwargs)


def require_staff(user, codename: str) -> None:
    if not user_can(user, codename):
        raise PermissionDenied(
            f"This action needs a staff role with: {codename}", code="permission_denied"
        )


# One instance of each input serializer, built on first use: constructing a serializer
# deep-copies its declared fields, which cost more than validating a payment's body. Validation
# keeps no state on the instance (`run_validation` returns the data or raises), and these
# serializers take no context.
_PARSERS: dict[type[serializers.Serializer], serializers.Serializer] = {}


def parse_input(serializer_class: type[serializers.Serializer], data) -> dict:
    """`data` validated by `serializer_class`, or ValidationError (400 naming the fields)
    with the errors `is_valid(raise_exception=True)` raises."""
    parser = _PARSERS.get(serializer_class)
    if parser is None:
        parser = _PARSERS[serializer_class] = serializer_class()
    try:
        return parser.run_validation(data)
    except ValidationError as exc:
        detail = exc.detail
        if (
            isinstance(detail, list)
            and len(detail) == 1
            and getattr(detail[0], "code", "") == "null"
        ):
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}  # as Serializer.errors
        raise ValidationError(detail) from None


def render(serializer_class: type[serializers.Serializer], instance) -> dict:
    """`dict(serializer_class(instance).data)` from one instance of the class, built once
    (output serializers here take no context)."""
    renderer = _RENDERERS.get(serializer_class)
    if renderer is None:
        renderer = _RENDERERS[serializer_class] = serializer_class()
    return dict(renderer.to_representation(instance))


_RENDERERS: dict[type[serializers.Serializer], serializers.Serializer] = {}


# --------------------------------------------------------------------------- output shapes


class LoanOutput(serializers.Serializer):
    id = StrictIntegerField()
    loan_number = StrictCharField()
    external_id = StrictCharField(allow_null=True)
    status = StrictCharField()
    borrower_id = StrictIntegerField()
    borrower_name = StrictCharField(source="borrower.full_name")
    product_code = StrictCharField()
    product_name = StrictCharField()
    product_version = StrictIntegerField()
    interest_model = StrictCharField()
    principal_amount = money_out()
    annual_rate_pct = serializers.DecimalField(max_digits=9, decimal_places=4)
    apr = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    n_periods = StrictIntegerField()
    frequency = StrictCharField()
    day_count = StrictCharField()
    disbursed_on = serializers.DateField()
    maturity_date = serializers.DateField()
    delinquent = serializers.BooleanField()
    in_hardship = serializers.BooleanField()
    non_accrual = serializers.BooleanField()
    last_accrual_date = serializers.DateField()


@extend_schema_serializer(component_name="Loan")
class LoanDetailOutput(LoanOutput):
    """The loan with its balances (the API's loan shape; money is a string)."""

    principal_balance = money_out()
    interest_balance = money_out()
    fees_balance = money_out()
    credit_balance = money_out()
    total_due = money_out()
    payoff_today = money_out()
    past_due_amount = money_out()
    dpd = StrictIntegerField()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = money_out()


def loan_body(loan: Loan, balances: selectors.LoanBalances) -> dict:
    body = dict(LoanOutput(loan).data)
    money = serializers.DecimalField(**MONEY)
    for name in (
        "principal_balance",
        "interest_balance",
        "fees_balance",
        "credit_balance",
        "total_due",
        "payoff_today",
        "past_due_amount",
        "next_due_amount",
    ):
        body[name] = money.to_representation(getattr(balances, name))
    body["dpd"] = balances.dpd
    body["next_due_date"] = balances.next_due_date.isoformat() if balances.next_due_date else None
    return body


class PaymentOutput(serializers.Serializer):
    id = StrictIntegerField()
    loan_id = StrictIntegerField()
    external_id = StrictCharField(
        allow_null=True, help_text="Your own id for the payment, if you gave one."
    )
    amount = money_out()
    effective_date = serializers.DateField()
    method = StrictCharField()
    reference = StrictCharField()
    status = StrictCharField()
    is_recovery = serializers.BooleanField()
    posted_on = serializers.DateField()
    allocation = serializers.SerializerMethodField()
    reversal_reason = StrictCharField()
    nsf = serializers.BooleanField()
    reversed_on = serializers.DateField(allow_null=True)

    def get_allocation(self, payment: Payment) -> dict:
        return {k: _MONEY_TEXT.to_representation(v) for k, v in payment.allocation.items()}


_MONEY_TEXT = serializers.DecimalField(**MONEY)  # stateless: renders a Decimal as text


class FeeOutput(serializers.Serializer):
    id = StrictIntegerField()
    loan_id = StrictIntegerField()
    kind = StrictCharField()
    amount = money_out()
    paid_amount = money_out()
    waived_amount = money_out()
    outstanding = money_out()
    status = StrictCharField()
    assessed_on = serializers.DateField()
    reason = StrictCharField()
