"""The shared Redis these tests use, on its own database number (never flushed)."""

from __future__ import annotations

import os

import pytest
import redis

from tests.conftest import REQUIRE_SERVICES

# DB 14: the other suites use 15 (CI's broker) and 7 (COB's workers).
REDIS_URL = os.environ.get("OPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_up() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


def redis_or_skip() -> None:
    """Skip without Redis; in CI (LENDCORE_REQUIRE_SERVICES=1) fail instead."""
    if redis_up():
        return
    message = f"needs Redis at {REDIS_URL}"
    if REQUIRE_SERVICES:
        pytest.fail(f"CI requires every service: {message}", pytrace=False)
    pytest.skip(message)
