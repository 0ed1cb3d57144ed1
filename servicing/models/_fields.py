"""Field builders shared by the servicing models: money (2 places), exact (6 places), choices."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

ZERO = Decimal("0.00")


def _money(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _exact(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0.000000"))
    return models.DecimalField(max_digits=24, decimal_places=6, **kwargs)


def _choices_check(
    name: str, field: str, choices: type[models.TextChoices]
) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)
