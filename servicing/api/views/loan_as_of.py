"""`GET /api/v1/loans/{id}/?as_of=YYYY-MM-DD`: the loan as of a past business date
(servicing.loan_as_of). Its own shape, `LoanAsOf`: the loan tape's columns (one definition,
servicing.loan_tape.COLUMNS) with `as_of`, `schedule_version` and `schedule`. Not the loan
detail's: payoff today, past-due amount, hardship and accrual flags are today's figures that
no record keeps as of a past date, and a shape claiming them would not be true."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.query import IsoDateField
from servicing.loan_tape import BOOL, COLUMNS, DATE, INT, MONEY, PCT, RATE, STR

from .common import money_out


def _column_field(kind: str, *, nullable: bool, help_text: str) -> serializers.Field:
    options: dict[str, Any] = {"allow_null": nullable, "help_text": help_text}
    if kind == MONEY:
        return money_out(**options)
    if kind == RATE:
        return serializers.DecimalField(max_digits=14, decimal_places=10, **options)
    if kind == PCT:
        return serializers.DecimalField(max_digits=9, decimal_places=4, **options)
    fields: dict[str, type[serializers.Field]] = {
        STR: StrictCharField,
        INT: serializers.IntegerField,
        DATE: serializers.DateField,
        BOOL: serializers.BooleanField,
    }
    return fields[kind](**options)


@extend_schema_serializer(component_name="LoanAsOfInstallment")
class InstallmentAsOfOutput(serializers.Serializer):
    number = StrictIntegerField()
    due_date = serializers.DateField()
    principal_due = money_out()
    interest_due = money_out()
    fee_due = money_out()
    total_due = money_out()
    principal_paid = money_out(help_text="Paid by the close of `as_of` (not reversed by then).")
    interest_paid = money_out()
    fee_paid = money_out()
    cancelled = money_out()
    remaining = money_out()
    status = serializers.ChoiceField(
        choices=["paid", "partially_paid", "overdue", "due", "upcoming"],
        help_text="Its state on `as_of`.",
    )


_LoanAsOfBase = type(
    "_LoanAsOfBase",
    (serializers.Serializer,),
    {
        column.name: _column_field(column.kind, nullable=column.nullable, help_text=column.meaning)
        for column in COLUMNS
    },
)


@extend_schema_serializer(component_name="LoanAsOf")
class LoanAsOfOutput(_LoanAsOfBase):  # type: ignore[misc,valid-type]
    """The loan as the books stood at the close of `as_of` (docs/loan_as_of.md)."""

    as_of = serializers.DateField()
    schedule_version = StrictIntegerField(
        allow_null=True, help_text="The schedule version in force on `as_of`."
    )
    schedule = InstallmentAsOfOutput(many=True)


class AsOfInput(serializers.Serializer):
    as_of = IsoDateField()
