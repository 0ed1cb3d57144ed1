"""Money as an API input: one field factory, so every amount has the same bound and messages.

`money_field()` is a `DecimalField(max_digits=18, decimal_places=2)` that refuses anything
above `lendcore.finance.money.MONEY_MAX` (999,999,999.99, see its comment) with a 400 naming
the field, and shows that bound as `maximum` (and `minimum`) in the OpenAPI schema::

    from lendcore.api.fields import money_field

    amount = money_field(min_value=Decimal("0.01"))           # more than 0
    fee = money_field(required=False, default=Decimal("0.00"))  # 0 or more (the default)
    adjustment = money_field(min_value=-MONEY_MAX)             # signed

A caller may pass a lower `max_value` (a business limit such as the quote's principal limit),
never a higher one. Defaults are `Decimal`s, never strings: DRF does not parse a default.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from lendcore.core.converters import MAX_ID
from lendcore.core.external_ids import MAX_LENGTH as EXTERNAL_ID_MAX
from lendcore.core.external_ids import (
    PATTERN as EXTERNAL_ID_PATTERN,  # the largest bigint: a larger id overflows the driver
)
from lendcore.finance.money import MONEY_MAX

__all__ = [
    "MAX_ID",
    "MONEY_MAX",
    "BoundedDecimalField",
    "MoneyField",
    "decimal_field",
    "id_field",
    "money_field",
]

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _min_message(min_value: Decimal) -> str:
    if min_value == ZERO:
        return "Must be 0 or more."
    if min_value == CENT:
        return "Must be more than 0."
    return f"Must be at least {_amount(min_value)}."


def _at_least_one_nonzero(width: int) -> str:
    """1 to `width` digits, not all zeros, as alternatives (no look-ahead: schema tools that
    generate examples from a pattern, such as Hypothesis, do not all read look-arounds)."""
    zeros = ["0" * k if k < 2 else f"0{{{k}}}" for k in range(width)]
    tails = [rf"\d{{0,{width - 1 - k}}}" if k < width - 1 else "" for k in range(width)]
    return "|".join(f"{zeros[k]}[1-9]{tails[k]}" for k in range(width))


@lru_cache(maxsize=64)  # every amount of every request asks, with a handful of bounds
def decimal_pattern(min_value: Decimal, max_value: Decimal, places: int) -> str:
    """The one text form of an amount, for the API and its schema alike: plain digits, at most
    `places` decimals and as many whole digits as the bound has; a sign only where negatives
    are allowed; and, when the least allowed amount is above zero, not all zeros."""
    whole = len(str(int(max(abs(min_value), abs(max_value)))))
    if min_value > 0:
        nonzero_whole = _at_least_one_nonzero(whole)
        nonzero_fraction = _at_least_one_nonzero(places)
        return (
            rf"^(?:(?:{nonzero_whole})(?:\.\d{{1,{places}}})?"
            rf"|0{{1,{whole}}}\.(?:{nonzero_fraction}))$"
        )
    sign = "-?" if min_value < 0 else ""
    return rf"^{sign}\d{{1,{whole}}}(?:\.\d{{1,{places}}})?$"


class BoundedDecimalField(serializers.DecimalField):
    """A decimal input between its bounds (both set), given as a JSON string in the one form
    `decimal_pattern` describes (the schema shows the same pattern): a JSON number is refused,
    since a float may already have lost digits. The bound is checked before the digit counts, so
    "9999999999" reads "Must be at most 999,999,999.99." rather than a message about digits."""

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("invalid")
        text = data  # not stripped: the schema's pattern allows no spaces either
        if len(text) > self.MAX_STRING_LENGTH:
            self.fail("max_string_length")
        low, high = Decimal(str(self.min_value)), Decimal(str(self.max_value))
        if not re.fullmatch(decimal_pattern(low, high, self.decimal_places or 0), text):
            # a number in another form: say which bound it breaks, if it breaks one
            if re.fullmatch(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d{1,4})?", text):
                value = Decimal(text)
                if value > high:
                    self.fail("max_value", max_value=high)
                if value < low:
                    self.fail("min_value", min_value=low)
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int) and -exponent > (self.decimal_places or 0):
                    self.fail("max_decimal_places", max_decimal_places=self.decimal_places)
            self.fail("invalid")
        return super().to_internal_value(text)

    def validate_precision(self, value: Decimal) -> Decimal:
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        exponent = value.as_tuple().exponent
        places = self.decimal_places
        if isinstance(exponent, int) and places is not None and -exponent > places:
            self.fail("max_decimal_places", max_decimal_places=self.decimal_places)
        return super().validate_precision(value)


class MoneyField(BoundedDecimalField):
    """A money amount (`money_field`): 2 decimals, within ±MONEY_MAX."""


def decimal_field(
    *,
    places: int,
    min_value: Decimal,
    max_value: Decimal,
    help_text: str | None = None,
    **kwargs: Any,
) -> BoundedDecimalField:
    """A non-money decimal input (a rate, a rounding step) with its bounds and places, checked
    and documented as money is."""
    min_value, max_value = Decimal(min_value), Decimal(max_value)
    whole = len(str(int(max(abs(min_value), abs(max_value)))))
    bound = f"A number with at most {places} decimals, from {min_value} to {max_value}."
    messages = {
        "invalid": f'Must be a number written as text, such as "{max_value / 2:.{places}f}".',
        "max_value": f"Must be at most {max_value}.",
        "min_value": f"Must be at least {min_value}.",
        "max_decimal_places": f"At most {places} decimal places.",
        **kwargs.pop("error_messages", {}),
    }
    return BoundedDecimalField(
        max_digits=whole + places,
        decimal_places=places,
        min_value=min_value,
        max_value=max_value,
        help_text=f"{help_text} {bound}" if help_text else bound,
        error_messages=messages,
        **kwargs,
    )


def money_field(
    *,
    min_value: Decimal = ZERO,
    max_value: Decimal = MONEY_MAX,
    help_text: str | None = None,
    error_messages: dict[str, str] | None = None,
    **kwargs: Any,
) -> MoneyField:
    """A money input between `min_value` (0 unless said) and `max_value` (`MONEY_MAX`)."""
    min_value, max_value = Decimal(min_value), Decimal(max_value)
    if max_value > MONEY_MAX:
        raise ValueError(f"max_value {max_value} is above MONEY_MAX {MONEY_MAX}")
    if min_value < -MONEY_MAX or min_value > max_value:
        raise ValueError(f"min_value {min_value} is outside -MONEY_MAX..max_value")
    messages: dict[str, Any] = {
        "invalid": 'Must be an amount such as "1500.00".',
        "max_value": f"Must be at most {_amount(max_value)}.",
        "min_value": _min_message(min_value),
        "max_decimal_places": "At most 2 decimal places.",
        "max_digits": f"Must be at most {_amount(max_value)}.",
        "max_whole_digits": f"Must be at most {_amount(max_value)}.",
        **(error_messages or {}),
    }
    bound = f"An amount with at most 2 decimals, from {min_value} to {max_value}."
    return MoneyField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=min_value,
        max_value=max_value,
        help_text=f"{help_text} {bound}" if help_text else bound,
        error_messages=messages,
        **kwargs,
    )


def id_field(**kwargs: Any) -> StrictIntegerField:
    """The id of a row given in a body or a query string: a whole number from 1 to MAX_ID."""
    messages = {
        "invalid": "Must be an id (a whole number).",
        "min_value": "Must be an id (a whole number from 1).",
        "max_value": "No such id.",
        "max_string_length": "No such id.",
        **kwargs.pop("error_messages", {}),
    }
    return StrictIntegerField(min_value=1, max_value=MAX_ID, error_messages=messages, **kwargs)


class BoundedDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """Money is a JSON string (COERCE_DECIMAL_TO_STRING); drf-spectacular writes no bounds for
    decimal strings, so this adds `minimum`/`maximum` and the pattern `MoneyField` checks
    (whole digits stop at the bound, 9 for MONEY_MAX; positive amounts are not all zeros)."""

    target_class = "lendcore.api.fields.BoundedDecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field: BoundedDecimalField = self.target
        low, high = (
            Decimal(str(field.min_value)),
            Decimal(str(field.max_value)),
        )  # set by money_field
        return {
            **(build_basic_type(OpenApiTypes.STR) or {}),
            "format": "decimal",
            "pattern": decimal_pattern(low, high, field.decimal_places or 0),
            "minimum": field.min_value,
            "maximum": field.max_value,
        }


class StrictRegexField(serializers.RegexField):
    """A string matching a pattern, and only a string: DRF's text fields read the JSON number
    7 as "7", which the schema (type string) does not allow."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# A bank account number or an IBAN as typed: 4 to 34 letters or digits, spaces and dashes
# between them ignored (`origination.services.disbursement_account_normalize`).
ACCOUNT_NUMBER_PATTERN = r"^[\s-]*(?:[A-Za-z0-9][\s-]*){4,34}$"


def pattern_field(pattern: str, **kwargs: Any) -> StrictRegexField:
    """A text input that matches `pattern` as sent (not trimmed: the schema's pattern sees the
    same text), shown with that pattern in the schema; where blank is allowed, the pattern
    allows "" too."""
    if kwargs.get("allow_blank"):
        pattern = rf"^(?:{pattern.removeprefix('^').removesuffix('$')})?$"
    return StrictRegexField(pattern, trim_whitespace=False, **kwargs)


class StrictCharField(serializers.CharField):
    """Text, and only text: DRF's CharField reads the JSON number 7 as "7", which the schema
    (type string) does not allow."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# A whole number written in ASCII digits: Python's int() also reads full-width and Arabic-Indic
# digits, "1_0" and " 1", and DRF strips a trailing ".0": none of which is a schema `integer`.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class StrictIntegerField(serializers.IntegerField):
    """An integer as the schema says: a JSON number with no fraction, or (a query string or a
    form part) ASCII digits with an optional minus, nothing else. A boolean is not a number."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str) and not WHOLE_NUMBER.fullmatch(data):
            if len(data) > self.MAX_STRING_LENGTH:
                self.fail("max_string_length")
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A model serializer whose integer fields read as `StrictIntegerField` does."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **{
            model_field: StrictIntegerField
            for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
            if field is serializers.IntegerField
        },
    }


class StrictFloatField(serializers.FloatField):
    """A JSON number, and only a number: DRF's FloatField reads the text "1.5" as 1.5, which
    the schema (type number) does not allow. A boolean is not a number either."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


def external_id_field(**kwargs: Any) -> serializers.RegexField:
    """An integrator's own id for an object (`lendcore.core.external_ids`): the schema's
    pattern is the one the service checks."""
    kwargs.setdefault(
        "help_text",
        "Your own id for it: unique among yours of this type; up to 100 letters, "
        "digits, '.', '_', ':' or '-'.",
    )
    return StrictRegexField(
        rf"^{EXTERNAL_ID_PATTERN}$",
        max_length=EXTERNAL_ID_MAX,
        trim_whitespace=False,  # " x" is refused, as the pattern says, not read as "x"
        **kwargs,
    )
