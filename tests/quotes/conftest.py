"""Local fixtures for the quote tests (only pytest-django's built-ins are relied on)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous API client: quotes and APRs need no account."""
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    """Throttle counters live in the cache; no test inherits another's requests."""
    cache.clear()
    yield
    cache.clear()
