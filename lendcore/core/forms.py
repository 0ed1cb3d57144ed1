"""Money as a form input in the staff UI and the portal: the counterpart of
`lendcore.api.fields.money_field`, with the same bound (`MONEY_MAX`) and friendlier words::

    from lendcore.core.forms import money_form_field

    amount = money_form_field(label="Amount", min_value=Decimal("0.01"))
    rent = money_form_field(label="Monthly rent or mortgage")           # 0 or more
    amount = money_form_field(label="Amount", required=False)

It accepts what people type ("10,000", "$ 10 000"). A caller may pass a lower `max_value`
(a business limit), never a higher one; other keyword arguments go to the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from lendcore.finance.money import MONEY_MAX

__all__ = ["MONEY_MAX", "LenientDecimalField", "MoneyFormField", "money_form_field"]

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class LenientDecimalField(forms.DecimalField):
    """Accepts what people type: "10,000", "$ 10 000", "9.9%"."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.replace(",", "").replace(" ", "").strip("$%")
        return super().to_python(value)


class MoneyFormField(LenientDecimalField):
    """The bound first: "1e30" reads "Enter an amount of at most 999,999,999.99." once,
    not alongside a message about 18 digits."""

    def run_validators(self, value: Any) -> None:
        if value in self.empty_values:
            return
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(
                self.error_messages["max_value"],
                code="max_value",
                params={"limit_value": self.max_value},
            )
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(
                self.error_messages["min_value"],
                code="min_value",
                params={"limit_value": self.min_value},
            )
        exponent = value.as_tuple().exponent
        places = self.decimal_places
        if isinstance(exponent, int) and places is not None and -exponent > places:
            raise ValidationError(
                self.error_messages["max_decimal_places"],
                code="max_decimal_places",
                params={"max": self.decimal_places, "value": value},
            )
        super().run_validators(value)


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}".removesuffix(".00")


def money_form_field(
    *,
    label: str,
    required: bool = True,
    min_value: Decimal = ZERO,
    max_value: Decimal = MONEY_MAX,
    error_messages: dict[str, str] | None = None,
    **kwargs: Any,
) -> MoneyFormField:
    """A money input between `min_value` (0 unless said) and `max_value` (`MONEY_MAX`)."""
    min_value, max_value = Decimal(min_value), Decimal(max_value)
    if max_value > MONEY_MAX:
        raise ValueError(f"max_value {max_value} is above MONEY_MAX {MONEY_MAX}")
    if min_value < -MONEY_MAX or min_value > max_value:
        raise ValueError(f"min_value {min_value} is outside -MONEY_MAX..max_value")
    if min_value == ZERO:
        too_small = "Enter 0 or more."
    elif min_value == CENT:
        too_small = "Enter an amount greater than 0."
    else:
        too_small = f"Enter an amount of at least {_amount(min_value)}."
    too_big = f"Enter an amount of at most {_amount(max_value)}."
    messages = {
        "invalid": "Enter an amount such as 1500 or 1500.50.",
        "min_value": too_small,
        "max_value": too_big,
        "max_decimal_places": "Use at most 2 decimal places (cents).",
        "max_digits": too_big,
        "max_whole_digits": too_big,
        **(error_messages or {}),
    }
    kwargs.setdefault(
        "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    )
    return MoneyFormField(
        label=label,
        required=required,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=min_value,
        max_value=max_value,
        error_messages=messages,
        **kwargs,
    )
