"""Identity verification: one interface, a deterministic sandbox.

Sandbox rule (documented in the README): a last name of `Fraud` fails, `Review` asks for
manual review, everyone else passes (case-insensitive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .bureau import Subject


@dataclass(frozen=True)
class IdentityResult:
    result: str  # "pass" | "fail" | "review"
    provider: str
    raw: dict[str, Any] = field(default_factory=dict)


class IdentityBackend(Protocol):
    name: str

    def verify(self, subject: Subject) -> IdentityResult:
        """Raise `origination.errors.IdentityUnavailable` when the provider is down."""
        ...


class SandboxIdentity:
    name = "sandbox-identity"

    def verify(self, subject: Subject) -> IdentityResult:
        last = subject.last_name.strip().lower()
        if last == "fraud":
            result, note = "fail", "Identity could not be verified"
        elif last == "review":
            result, note = "review", "Identity needs manual review"
        else:
            result, note = "pass", "Identity verified"
        return IdentityResult(
            result=result,
            provider=self.name,
            raw={"result": result, "note": note, "ssn_last4": subject.ssn[-4:]},
        )
