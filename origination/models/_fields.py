"""Typed constructors of the money and rate columns (instead of `**{"max_digits": ...}` dicts,
which mypy cannot check against `DecimalField`'s parameters)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, TypeAlias, overload

from django.db import models
from django.db.models.expressions import Combinable

MONEY_DIGITS, MONEY_PLACES = 18, 2
RATE_DIGITS, RATE_PLACES = 8, 4  # percent a year, e.g. 9.9900

_Set: TypeAlias = str | float | Decimal | Combinable


@overload
def money_field(
    *, null: Literal[True], **overrides: Any
) -> models.DecimalField[_Set | None, Decimal | None]: ...
@overload
def money_field(
    *, null: Literal[False] = ..., **overrides: Any
) -> models.DecimalField[_Set, Decimal]: ...
def money_field(**overrides: Any) -> Any:
    """A money column: `DecimalField(max_digits=18, decimal_places=2, **overrides)`."""
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **overrides)


@overload
def rate_field(
    *, null: Literal[True], **overrides: Any
) -> models.DecimalField[_Set | None, Decimal | None]: ...
@overload
def rate_field(
    *, null: Literal[False] = ..., **overrides: Any
) -> models.DecimalField[_Set, Decimal]: ...
def rate_field(**overrides: Any) -> Any:
    """An annual rate in percent: `DecimalField(max_digits=8, decimal_places=4, **overrides)`."""
    return models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, **overrides)
