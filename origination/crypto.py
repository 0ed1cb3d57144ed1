"""SSN encryption at rest: Fernet, keyed by FIELD_ENCRYPTION_KEY or derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(secret_key: str, field_key: str) -> MultiFernet:
    keys: list[Fernet] = []
    if field_key:
        keys.append(Fernet(field_key.encode()))
    derived = hashlib.sha256(f"lendcore-field-encryption:{secret_key}".encode()).digest()
    keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(keys)


def _cipher() -> MultiFernet:
    return _fernet(settings.SECRET_KEY, getattr(settings, "FIELD_ENCRYPTION_KEY", "") or "")


def encrypt(value: str) -> str:
    return _cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()
