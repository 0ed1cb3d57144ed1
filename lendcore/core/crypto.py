"""The one field-encryption helper for personal data at rest (SSN, date of birth, bank account
and routing numbers): Fernet tokens under a ring of keys, newest first (`MultiFernet`), so a key
is rotated by putting a new one in front and re-encrypting (`manage.py rotate_field_keys`).

Where the keys live:
- `FIELD_ENCRYPTION_KEYS` (environment, comma-separated, newest first): required in production;
  the single `FIELD_ENCRYPTION_KEY` of earlier releases is read as a one-key ring.
- Otherwise (local and demo) a key file outside the repository, `FIELD_ENCRYPTION_KEY_FILE`
  (default `~/.lendcore/field-keys`), created with mode 0600 on first use. A copied database
  without that file decrypts nothing.

Values written by earlier releases under keys derived from `SECRET_KEY` still decrypt while
`FIELD_ENCRYPTION_ACCEPT_DERIVED` is on (local default; never in production); nothing new is
written under them, and `rotate_field_keys` re-encrypts them under the real key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "EncryptedField",
    "InvalidToken",
    "decrypt",
    "encrypt",
    "encrypt_or_empty",
    "encrypted_fields",
    "encrypted_property",
    "key_file_add_key",
    "key_file_retire_keys",
    "keys_in_use",
    "mask",
    "mask_date",
    "reset_cache",
    "rotate",
]

# The labels earlier releases derived keys from (origination's SSNs, servicing's accounts).
_DERIVED_LABELS = ("lendcore-field-encryption", "servicing-fields")


def _derived_key(label: str, secret_key: str) -> bytes:
    digest = hashlib.sha256(f"{label}:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _key_file() -> Path:
    configured = getattr(settings, "FIELD_ENCRYPTION_KEY_FILE", "") or ""
    return Path(configured).expanduser() if configured else Path.home() / ".lendcore" / "field-keys"


def _read_key_file(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _write_key_file(path: Path, keys: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a sibling, then renamed: a crash never leaves half a key ring.
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(keys) + "\n")
    tmp.replace(path)


def _configured_keys() -> list[str]:
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [])
    single = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    if single and single not in keys:
        keys.append(single)
    return keys


def keys_in_use() -> tuple[list[str], Path | None]:
    """The key ring, newest first, and the key file it came from (None: from settings)."""
    keys = _configured_keys()
    if keys:
        return keys, None
    path = _key_file()
    if not path.exists():
        _write_key_file(path, [Fernet.generate_key().decode()])
    keys = _read_key_file(path)
    if not keys:
        raise ImproperlyConfigured(f"The field-encryption key file {path} holds no key.")
    return keys, path


@lru_cache(maxsize=1)
def _ring() -> MultiFernet:
    keys, _ = keys_in_use()
    try:
        fernets = [Fernet(key.encode()) for key in keys]
    except ValueError as error:
        raise ImproperlyConfigured(f"A field-encryption key is not a Fernet key: {error}") from None
    if getattr(settings, "FIELD_ENCRYPTION_ACCEPT_DERIVED", False):
        fernets += [Fernet(_derived_key(label, settings.SECRET_KEY)) for label in _DERIVED_LABELS]
    return MultiFernet(fernets)


def reset_cache() -> None:
    """Forget the ring (after a rotation or a settings change in tests)."""
    _ring.cache_clear()


def encrypt(value: str) -> str:
    return _ring().encrypt(value.encode()).decode()


def encrypt_or_empty(value: str | None) -> str:
    """The token of an optional value; "" (no token) when there is none."""
    return encrypt(value) if value else ""


def decrypt(token: str) -> str:
    return _ring().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same value under the newest key (a no-op in meaning)."""
    return _ring().rotate(token.encode()).decode()


def mask(value: str | None, *, keep: int = 4, fill: str = "•") -> str:
    """`•••••6789`: only the last `keep` characters of a value shown anywhere but a reveal."""
    text = "".join(ch for ch in (value or "") if ch.isalnum())
    if not text:
        return ""
    shown = text[-keep:] if keep and len(text) > keep else ""
    return fill * max(len(text) - len(shown), 4) + shown


def mask_date(value: date | None) -> str:
    """`••/••/1985`: a date of birth shows its year only anywhere but a reveal."""
    return f"••/••/{value.year}" if value else ""


def encrypted_property(
    column: str,
    *,
    parse: Callable[[str], Any] = str,
    dump: Callable[[Any], str] = str,
    empty: Any = "",
) -> property:
    """A model attribute that reads and writes the clear value of the `*_encrypted` text column
    `column` (so `Model(date_of_birth=...)`, `.create(...)` and factories keep working: Django
    sets properties from keyword arguments). The clear value is decrypted at most once per
    token and kept on the instance only, so reading it twice costs one decryption; nothing
    but the token reaches the database. `empty` (no value) is stored as ""."""
    cache = f"_{column}_clear"

    def read(obj: Any) -> Any:
        token = getattr(obj, column)
        if not token:
            return empty
        cached = obj.__dict__.get(cache)
        if cached is None or cached[0] != token:
            cached = (token, parse(decrypt(token)))
            obj.__dict__[cache] = cached
        return cached[1]

    def write(obj: Any, value: Any) -> None:
        if value is None or value == "":
            setattr(obj, column, "")
            return
        token = encrypt(dump(value))
        setattr(obj, column, token)
        obj.__dict__[cache] = (token, parse(dump(value)))

    return property(read, write, doc=f"The clear value of `{column}` (decrypted on read).")


def key_file_add_key() -> tuple[Path, str]:
    """Put a new key in front of the local key file; the old ones still decrypt."""
    keys, path = keys_in_use()
    if path is None:
        raise ImproperlyConfigured(
            "The keys come from FIELD_ENCRYPTION_KEYS: put a new key first there "
            "(`rotate_field_keys --new-key` prints one), restart, then re-encrypt."
        )
    new_key = Fernet.generate_key().decode()
    _write_key_file(path, [new_key, *keys])
    reset_cache()
    return path, new_key


def key_file_retire_keys() -> int:
    """Keep only the newest key in the local key file; answers how many were dropped."""
    keys, path = keys_in_use()
    if path is None:
        raise ImproperlyConfigured("The keys come from FIELD_ENCRYPTION_KEYS: drop old ones there.")
    _write_key_file(path, keys[:1])
    reset_cache()
    return len(keys) - 1


@dataclass(frozen=True)
class EncryptedField:
    """A text column holding Fernet tokens (empty means no value)."""

    model_label: str
    field_name: str


def encrypted_fields() -> Iterator[EncryptedField]:
    """Every encrypted column, by the house convention: a text field named `*_encrypted`
    (tests/core/test_crypto.py holds every app to it)."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.name.endswith("_encrypted"):
                yield EncryptedField(model._meta.label, field.name)
