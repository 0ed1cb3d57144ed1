"""The API's paginations: `?limit=&offset=`, both whole numbers within documented bounds;
and, for a long list ordered by a number (the collections queue), `?limit=&cursor=`
(`KeysetPagination` below: a page costs the same however deep).

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
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

from lendcore.core.keyset import MAX_CURSOR_CHARS, CursorError, cursor_decode, keyset_page

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


class KeysetPagination(BasePagination):
    """`?limit=&cursor=` over a list ordered by `ordering_field` (highest first) then id: each
    page one indexed range scan however deep (`lendcore.core.keyset`). The envelope is the
    limit/offset one's: `count`, `next`, `previous` (links carrying `cursor`), `results`.
    `count` is given on the first page (no cursor) and null on the pages after it: counting
    every matching row on every request costs more than the page itself on a long list, and
    a client following `next` already has it. `offset` is refused (400): follow `next`."""

    ordering_field = "priority"
    default_limit: int = int(api_settings.PAGE_SIZE or 50)
    max_limit = MAX_LIMIT
    limit_query_param = "limit"
    cursor_query_param = "cursor"
    limit_query_description = f"Number of results to return per page (1 to {MAX_LIMIT})."
    cursor_query_description = (
        "Where the page starts: the `cursor` of a `next` or `previous` link (opaque). "
        "Absent: the first page."
    )

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list:
        if request.query_params.getlist("offset"):
            raise ValidationError({"offset": ["This list pages by cursor: follow `next`."]})
        limit = _count(request, self.limit_query_param, lowest=1, highest=self.max_limit)
        self.limit: int = self.default_limit if limit is None else limit
        self.request = request
        cursor = None
        values = request.query_params.getlist(self.cursor_query_param)
        if len(values) > 1:
            raise ValidationError({self.cursor_query_param: ["Give this parameter once."]})
        if values:
            try:
                cursor = cursor_decode(values[0])
            except CursorError as error:
                raise ValidationError({self.cursor_query_param: [str(error)]}) from error
        self.page = keyset_page(queryset, field=self.ordering_field, size=self.limit, cursor=cursor)
        return self.page.items

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, "offset")
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.page.count,
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": "How many match: on the first page; null on the pages after",
                    "example": 123,
                },
                "next": link | {"description": "The page after this one, or null"},
                "previous": link | {"description": "The page before this one, or null"},
                "results": schema,
            },
        }

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
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_CURSOR_CHARS,
                    "pattern": "^[A-Za-z0-9_-]+$",
                },
            },
        ]
