"""Schemathesis hooks for scripts/fuzz_api.sh (loaded by tests/fuzz/schemathesis.toml).

Two inputs name state that a generator cannot know, so a schema-valid request made with a
generated value would be refused for a reason no schema can state:

- an `Idempotency-Key` already used with another body is a 422 (a generator repeats short
  keys such as "0"). A positive case gets a fresh key, as a well-behaved client sends; the key's
  own bounds stay fuzzed by the negative cases, and reuse is tested in tests/core and tests/api.
- a list `cursor` is handed out by the API (`lendcore.core.keyset`: url-safe base64 of
  "n|value|id"). A positive case sends a well-formed one; malformed ones stay fuzzed.
"""

from __future__ import annotations

import base64
import itertools

import schemathesis

_keys = itertools.count(1)
_CURSOR = base64.urlsafe_b64encode(b"n|0|1").decode("ascii").rstrip("=")


@schemathesis.hook
def before_call(context, case, **kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            headers[name] = f"fuzz-{next(_keys)}-{headers[name]}"[:255]
    query = case.query or {}
    if "cursor" in query:
        query["cursor"] = _CURSOR
