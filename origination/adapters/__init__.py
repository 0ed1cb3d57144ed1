"""Pluggable identity and bureau adapters, chosen by the IDENTITY_BACKEND and BUREAU_BACKEND
settings (dotted paths to classes). One interface each; see `identity.py` and `bureau.py`."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .bureau import BureauBackend, BureauResult, Subject
from .identity import IdentityBackend, IdentityResult

DEFAULT_IDENTITY_BACKEND = "origination.adapters.identity.SandboxIdentity"
DEFAULT_BUREAU_BACKEND = "origination.adapters.bureau.SandboxBureau"

__all__ = [
    "BureauBackend",
    "BureauResult",
    "IdentityBackend",
    "IdentityResult",
    "Subject",
    "bureau_backend",
    "identity_backend",
]


def identity_backend() -> IdentityBackend:
    path = getattr(settings, "IDENTITY_BACKEND", None) or DEFAULT_IDENTITY_BACKEND
    return import_string(path)()


def bureau_backend() -> BureauBackend:
    path = getattr(settings, "BUREAU_BACKEND", None) or DEFAULT_BUREAU_BACKEND
    return import_string(path)()
