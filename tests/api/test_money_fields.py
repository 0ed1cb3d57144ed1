"""The money input helpers: `money_field` (API) and `money_form_field` (UI) share MONEY_MAX."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django import forms
from rest_framework import serializers

from lendcore.api.fields import MAX_ID, decimal_pattern, id_field, money_field
from lendcore.core.forms import money_form_field
from lendcore.finance.money import MONEY_MAX


class _Input(serializers.Serializer):
    amount = money_field(min_value=Decimal("0.01"))
    fee = money_field(required=False, default=Decimal("0.00"))
    adjustment = money_field(min_value=-MONEY_MAX, required=False)
    account = id_field(required=False)


class _Form(forms.Form):
    amount = money_form_field(label="Amount", min_value=Decimal("0.01"))


def _errors(**data) -> dict:
    serializer = _Input(data={"amount": "10.00", **data})
    assert not serializer.is_valid()
    return {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "1000000000.00", "Must be at most 999,999,999.99."),
        ("amount", "1e30", "Must be at most 999,999,999.99."),
        ("amount", "0", "Must be more than 0."),
        ("amount", "0.000000000000000000001", "Must be more than 0."),
        ("amount", "1.001", "At most 2 decimal places."),
        ("amount", "NaN", 'Must be an amount such as "1500.00".'),
        # the one text form the schema's pattern shows: no exponent, no spaces, no number type
        ("amount", "1e2", 'Must be an amount such as "1500.00".'),
        ("amount", " 1.00", 'Must be an amount such as "1500.00".'),
        ("amount", ".50", 'Must be an amount such as "1500.00".'),
        ("amount", 10, 'Must be an amount such as "1500.00".'),
        ("amount", 10.5, 'Must be an amount such as "1500.00".'),
        ("amount", "0.00", "Must be more than 0."),
        ("fee", "-0.01", "Must be 0 or more."),
        ("adjustment", "-1000000000.00", "Must be at least -999,999,999.99."),
        ("account", "99999999999999999999", "No such id."),
        ("account", "0", "Must be an id (a whole number from 1)."),
    ],
)
def test_money_field_names_the_problem(field, value, message):
    # When a value out of the field's range is parsed, then its one message says why
    assert _errors(**{field: value}) == {field: [message]}


def test_money_field_takes_the_bound_and_a_decimal_default():
    # When the bound is given and the fee left out
    serializer = _Input(data={"amount": "999999999.99", "adjustment": "-999999999.99"})
    # Then both amounts are Decimals, the default included
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["amount"] == MONEY_MAX
    assert serializer.validated_data["fee"] == Decimal("0.00")
    assert isinstance(serializer.validated_data["fee"], Decimal)
    assert serializer.validated_data["adjustment"] == -MONEY_MAX
    assert MAX_ID == 2**63 - 1


def test_a_bound_above_money_max_is_refused_when_the_field_is_declared():
    with pytest.raises(ValueError, match="above MONEY_MAX"):
        money_field(max_value=MONEY_MAX + Decimal("0.01"))
    with pytest.raises(ValueError, match="above MONEY_MAX"):
        money_form_field(label="Amount", max_value=MONEY_MAX + Decimal("0.01"))


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("1,000,000,000", ["Enter an amount of at most 999,999,999.99."]),
        ("1e30", ["Enter an amount of at most 999,999,999.99."]),
        ("0", ["Enter an amount greater than 0."]),
        ("1.001", ["Use at most 2 decimal places (cents)."]),
    ],
)
def test_money_form_field_names_the_problem_once(value, errors):
    form = _Form({"amount": value})
    assert not form.is_valid()
    assert form.errors["amount"] == errors


def test_money_form_field_takes_what_people_type_up_to_the_bound():
    form = _Form({"amount": "$ 999,999,999.99"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == MONEY_MAX


@pytest.mark.parametrize("min_value", [Decimal("0.01"), Decimal("0"), -MONEY_MAX])
def test_the_schema_pattern_is_what_the_field_accepts(min_value):
    """The API is exactly as strict as its schema: a string matches the schema's pattern
    exactly when the field (within its bounds) accepts it."""

    class _One(serializers.Serializer):
        amount = money_field(min_value=min_value)

    pattern = decimal_pattern(min_value, MONEY_MAX, 2)
    samples = [
        "0",
        "0.00",
        "0.01",
        "00.10",
        "1",
        "1.5",
        "10.50",
        "999999999.99",
        "1000000000",
        "-1",
        "-0.01",
        "1.234",
        "",
        "1e2",
        " 1",
        "0001",
    ]
    for text in samples:
        accepted = _One(data={"amount": text}).is_valid()
        assert accepted == bool(re.fullmatch(pattern, text)), (text, min_value)
