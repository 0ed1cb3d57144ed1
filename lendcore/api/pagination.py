"""The API's one pagination: `?limit=&offset=` with both numbers bounded.

`limit` defaults to `PAGE_SIZE` (50) and is cut to `MAX_LIMIT` (500); `offset` is cut to
`MAX_OFFSET`. Nothing a client types can reach the database's LIMIT/OFFSET as a number too
large for it (SQLite and PostgreSQL take 64-bit integers), and an offset past the end is an
empty page. As in DRF, a `limit` or `offset` that is not a number falls back to the default.

A view paginates with ``paginator = self.pagination_class()`` and declares
``pagination_class = BoundedLimitOffsetPagination`` so that the schema shows the envelope
and the parameters.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 500
# Far beyond any list's length, far below 2**63.
MAX_OFFSET = 10**12


def _count(value: str, *, lowest: int, highest: int) -> int | None:
    """A non-negative whole number cut to `highest`, or None when it is not one."""
    value = value.strip()
    if not value.isdigit() or not value.isascii():
        return None
    if len(value) > len(str(highest)):  # do not parse thousands of digits
        return highest
    number = int(value)
    return None if number < lowest else min(number, highest)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT
    max_offset = MAX_OFFSET
    limit_query_description = f"Number of results to return per page (at most {MAX_LIMIT})."
    offset_query_description = "The initial index from which to return the results."

    def get_limit(self, request: Request) -> int | None:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        limit = _count(raw, lowest=1, highest=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        offset = _count(raw, lowest=0, highest=self.max_offset)
        return 0 if offset is None else offset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": self.limit_query_description,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_limit,
                    "default": self.default_limit,
                },
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": self.offset_query_description,
                "schema": {"type": "integer", "minimum": 0, "maximum": self.max_offset},
            },
        ]
