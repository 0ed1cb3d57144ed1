"""The API's one pagination: `?limit=&offset=`, both whole numbers within documented bounds.

`limit` defaults to `PAGE_SIZE` (50) and may be 1 to `MAX_LIMIT` (500); `offset` 0 to
`MAX_OFFSET`. Anything else (a word, a fraction, a negative, a number past the bound, the
parameter repeated) is a 400 naming the parameter: the schema shows exactly these bounds, so
the API accepts exactly what the schema allows and no number a client types reaches the
database's LIMIT/OFFSET. An offset past the end is an empty page.

A view paginates with ``paginator = self.pagination_class()`` and declares
``pagination_class = BoundedLimitOffsetPagination`` so that the schema shows the envelope
and the parameters.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 500
# Far beyond any list's length, far below 2**63.
MAX_OFFSET = 10**12


def _count(request: Request, name: str, *, lowest: int, highest: int) -> int | None:
    """The query parameter `name` as a whole number in [lowest, highest], None when absent;
    a 400 naming it otherwise."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    value = values[0].strip()
    # ASCII digits only: "²" and "٣" are digits to str.isdigit but not numbers to a client
    if not (value.isascii() and value.isdigit()):
        raise ValidationError({name: [f"A whole number from {lowest} to {highest} is required."]})
    if len(value) > len(str(highest)) or not lowest <= int(value) <= highest:
        raise ValidationError({name: [f"Must be from {lowest} to {highest}."]})
    return int(value)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT
    max_offset = MAX_OFFSET
    limit_query_description = f"Number of results to return per page (1 to {MAX_LIMIT})."
    offset_query_description = "The initial index from which to return the results."

    def get_limit(self, request: Request) -> int | None:
        limit = _count(request, self.limit_query_param, lowest=1, highest=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        offset = _count(request, self.offset_query_param, lowest=0, highest=self.max_offset)
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
