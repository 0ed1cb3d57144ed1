"""The portal calculator's form: parses and checks the terms, names the bad field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

from lendcore.core.forms import LenientDecimalField, money_form_field
from lendcore.errors import ValidationFailed

from . import services

_RATE_TOO_BIG = f"Enter a rate of at most {services.MAX_RATE_PCT} (percent a year)."


def _text(inputmode: str, **attrs: str) -> forms.TextInput:
    # A text input, not type=number: a browser empties a number input holding "abc" and
    # the borrower would read "required" instead of "enter a number".
    return forms.TextInput(attrs={"inputmode": inputmode, "autocomplete": "off", **attrs})


class CalculatorForm(forms.Form):
    DEFAULTS = {
        "amount": "10000",
        "rate": "9.9",
        "term": "36",
        "frequency": "monthly",
        "day_count": "30/360",
    }
    # The service names fields as the API does; the form's own names are friendlier.
    SERVICE_FIELDS = {
        "principal": "amount",
        "annual_rate": "rate",
        "term": "term",
        "frequency": "frequency",
        "day_count": "day_count",
    }

    amount = money_form_field(
        label="Loan amount",
        min_value=Decimal("0.01"),
        max_value=services.MAX_PRINCIPAL,
        widget=_text("decimal"),
        error_messages={
            "required": "Enter the amount you want to borrow.",
            "invalid": "Enter an amount such as 10000 or 10000.50.",
        },
    )
    rate = LenientDecimalField(
        label="Interest rate (% a year)",
        max_digits=8,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=services.MAX_RATE_PCT,
        widget=_text("decimal"),
        error_messages={
            "required": "Enter the yearly interest rate, e.g. 9.9.",
            "invalid": "Enter a rate such as 9.9.",
            "min_value": "The rate cannot be negative.",
            "max_value": _RATE_TOO_BIG,
            "max_decimal_places": "Use at most 4 decimal places.",
            "max_digits": _RATE_TOO_BIG,
            "max_whole_digits": _RATE_TOO_BIG,
        },
    )
    term = forms.IntegerField(
        label="Number of payments",
        min_value=1,
        max_value=services.MAX_TERM,
        widget=_text("numeric"),
        error_messages={
            "required": "Enter the number of payments, e.g. 36.",
            "invalid": "Enter a whole number of payments, e.g. 36.",
            "min_value": "Enter at least 1 payment.",
            "max_value": f"Enter at most {services.MAX_TERM} payments.",
        },
    )
    frequency = forms.ChoiceField(
        label="Payment frequency",
        choices=list(services.FREQUENCIES.items()),
        error_messages={"invalid_choice": "Choose a payment frequency from the list."},
    )
    day_count = forms.ChoiceField(
        label="Day count",
        choices=list(services.DAY_COUNTS.items()),
        help_text="How interest counts days; 30/360 unless your lender says otherwise.",
        error_messages={"invalid_choice": "Choose a day count from the list."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The error slot under each input always exists (htmx refills it), so always point
        # to it; Django adds aria-invalid itself, calculator.js keeps it current after a swap.
        for name, field in self.fields.items():
            ids = [f"id_{name}_error"] + ([f"id_{name}_helptext"] if field.help_text else [])
            field.widget.attrs["aria-describedby"] = " ".join(ids)

    @classmethod
    def from_query(cls, query: QueryDict) -> CalculatorForm:
        """Bound to the query string, or to the defaults when it holds none of the fields."""
        if not any(name in query for name in cls.base_fields):
            return cls(data=cls.DEFAULTS)
        return cls(data=query)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "principal": data["amount"],
            "annual_rate_pct": data["rate"],
            "term": data["term"],
            "frequency": data["frequency"],
            "day_count": data["day_count"],
        }

    def add_service_error(self, error: ValidationFailed) -> None:
        """Show a service's field errors on the matching fields (others on the form)."""
        fields = error.extra.get("fields") or {}
        if not fields:
            self.add_error(None, error.message)
        for name, messages in fields.items():
            field = self.SERVICE_FIELDS.get(name)
            for message in messages:
                self.add_error(field, message)
