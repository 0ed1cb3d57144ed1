"""Frozen values of origination that other layers (views, tasks, the staff UI) receive."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class DecisionInputs:
    features: dict[str, Any]
    tier: dict[str, str] | None
    rate: Decimal
    proposed_payment: Decimal


@dataclass(frozen=True)
class BacktestResult:
    rule_set_id: int
    compared: int
    approval_rate_before: Decimal
    approval_rate_after: Decimal
    outcomes_before: dict[str, int]
    outcomes_after: dict[str, int]
    flips: list[dict[str, Any]]
