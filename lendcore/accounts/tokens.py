"""API tokens: the key and what each scope lets a token do. Pure: no database.

A key is shown once, when it is issued; the database keeps only its SHA-256, so a copied
database holds no usable token. A token is bound to the password its user had when it was
issued (`password_stamp`): changing the password ends every token.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KEY_PREFIX_LENGTH = 8
DEFAULT_DAYS = 90
MAX_DAYS = 365


class TokenScope(StrEnum):
    READ_ONLY = "read_only"
    ORIGINATION = "origination"
    SERVICING = "servicing"
    ADMIN = "admin"


SCOPE_LABELS: dict[str, str] = {
    TokenScope.READ_ONLY: "Read only (any area the role can read)",
    TokenScope.ORIGINATION: "Origination (applicants, applications, documents, offers)",
    TokenScope.SERVICING: "Servicing (loans, payments, fees, statements, close of business)",
    TokenScope.ADMIN: "Everything the user's role allows",
}

# Which views (by the top package of their module) each scope reaches. Quotes, the APR
# calculator and the token endpoints themselves are open to every scope. The user's role
# still decides what they may do there: a scope only narrows.
_COMMON = ("lendcore.quotes", "lendcore.accounts")
SCOPE_AREAS: dict[str, tuple[str, ...] | None] = {
    TokenScope.READ_ONLY: None,  # every area, safe methods only
    TokenScope.ORIGINATION: ("origination", *_COMMON),
    TokenScope.SERVICING: ("servicing", *_COMMON),
    TokenScope.ADMIN: None,
}


def key_new() -> str:
    return secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_stamp(password_hash: str) -> str:
    """What a token remembers of its user's password (a digest of the stored hash)."""
    return hashlib.sha256(f"lendcore-token:{password_hash}".encode()).hexdigest()


def scope_allows(scope: str, *, method: str, view_module: str) -> bool:
    """Whether a token of `scope` may call a view defined in `view_module` with `method`."""
    if scope == TokenScope.READ_ONLY and method.upper() not in SAFE_METHODS:
        return False
    areas = SCOPE_AREAS.get(scope, ())
    if areas is None:
        return True
    return any(view_module == area or view_module.startswith(area + ".") for area in areas)
