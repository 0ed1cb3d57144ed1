"""A Redis cache that fails open: while Redis cannot be reached, reads miss and writes are
dropped (logged), instead of every request that touches the cache failing with a 500.

What this project keeps in the cache can do without it for a while: the API throttles'
counters (no limit while Redis is down) and the once-a-second webhook kick (beat delivers
the outbox anyway). Selected for a redis:// CACHE_URL in the settings. `incr` while Redis
is down raises ValueError, as for a missing key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 60.0  # one log line a minute per process while Redis is down


class FailOpenRedisCache(RedisCache):
    _warned_at = 0.0

    def _or(self, fallback: T, call: Callable[[], T]) -> T:
        try:
            return call()
        except REDIS_DOWN as error:
            now = time.monotonic()
            if now - FailOpenRedisCache._warned_at >= WARN_EVERY_SECONDS:
                FailOpenRedisCache._warned_at = now
                log.warning("cache: Redis cannot be reached, answering as a miss (%s)", error)
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return self._or(
            False, lambda: super(FailOpenRedisCache, self).add(key, value, timeout, version)
        )

    def get(self, key, default=None, version=None) -> Any:
        return self._or(default, lambda: super(FailOpenRedisCache, self).get(key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        self._or(None, lambda: super(FailOpenRedisCache, self).set(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return self._or(False, lambda: super(FailOpenRedisCache, self).touch(key, timeout, version))

    def delete(self, key, version=None) -> bool:
        return self._or(False, lambda: super(FailOpenRedisCache, self).delete(key, version))

    def get_many(self, keys, version=None) -> dict:
        return self._or({}, lambda: super(FailOpenRedisCache, self).get_many(keys, version))

    def has_key(self, key, version=None) -> bool:
        return self._or(False, lambda: super(FailOpenRedisCache, self).has_key(key, version))

    def incr(self, key, delta=1, version=None) -> int:
        try:
            return super().incr(key, delta, version)
        except REDIS_DOWN as error:
            raise ValueError(f"Key {key!r} not found (Redis cannot be reached)") from error

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        return self._or(
            list(data), lambda: super(FailOpenRedisCache, self).set_many(data, timeout, version)
        )

    def delete_many(self, keys, version=None) -> None:
        self._or(None, lambda: super(FailOpenRedisCache, self).delete_many(keys, version))

    def clear(self) -> None:
        self._or(None, lambda: super(FailOpenRedisCache, self).clear())
