"""How far a role may modify a loan without a second person (four-eyes).

The limits are a setting, `SERVICING_MODIFICATION_LIMITS`: role -> limits. A modification
applies at once only if the balance is within `SERVICING_MODIFICATION_APPROVAL_LIMIT` and
one of the requester's roles has limits that allow every term of it; otherwise it waits for
someone with `approve_modifications`. A role without a row (and so any unlisted role) may
only request; a user whose role may approve modifications has no role limits. Pure: the
caller passes the user's roles and the loan's current terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class ModificationLimits:
    # The lowest rate the role may set, and the largest cut from the loan's rate (percent).
    min_rate_pct: Decimal
    max_rate_cut_pct: Decimal
    # How many installments the role may add to the remaining term, and defer.
    max_term_extension: int
    max_defer_installments: int

    @classmethod
    def from_setting(cls, row: Mapping[str, Any]) -> ModificationLimits:
        return cls(
            min_rate_pct=Decimal(str(row["min_rate_pct"])),
            max_rate_cut_pct=Decimal(str(row["max_rate_cut_pct"])),
            max_term_extension=int(row["max_term_extension"]),
            max_defer_installments=int(row["max_defer_installments"]),
        )

    def allow(
        self,
        *,
        current_rate_pct: Decimal,
        annual_rate_pct: Decimal | None,
        term_extension: int,
        defer_installments: int,
    ) -> bool:
        if annual_rate_pct is not None and annual_rate_pct < current_rate_pct:
            if annual_rate_pct < self.min_rate_pct:
                return False
            if current_rate_pct - annual_rate_pct > self.max_rate_cut_pct:
                return False
        return (
            term_extension <= self.max_term_extension
            and defer_installments <= self.max_defer_installments
        )


def role_limits() -> dict[str, ModificationLimits]:
    rows = getattr(settings, "SERVICING_MODIFICATION_LIMITS", {}) or {}
    return {str(role): ModificationLimits.from_setting(row) for role, row in rows.items()}


def within_role_limits(
    *,
    roles: Iterable[str],
    current_rate_pct: Decimal,
    annual_rate_pct: Decimal | None,
    term_extension: int,
    defer_installments: int,
) -> bool:
    """Whether any of `roles` may grant this modification on its own."""
    limits = role_limits()
    return any(
        limits[role].allow(
            current_rate_pct=current_rate_pct,
            annual_rate_pct=annual_rate_pct,
            term_extension=term_extension,
            defer_installments=defer_installments,
        )
        for role in roles
        if role in limits
    )
