"""Query strings read as the schema describes them: one value per parameter, dates written
YYYY-MM-DD only, and a `format` parameter that belongs to the endpoint, not to DRF."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request


def query_params_strict(request: Request) -> dict[str, str]:
    """The query string with one value per name, for a serializer to read: a parameter given
    twice is a 400 naming it, and an empty one stays "" so that its field refuses it (read as a
    form, DRF would take "?status=" as left out and a repeated name as its last value)."""
    params = request.query_params
    repeated = [name for name in params if len(params.getlist(name)) > 1]
    if repeated:
        raise ValidationError({name: ["Give this parameter once."] for name in repeated})
    return params.dict()


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDateField(serializers.DateField):
    """A date written YYYY-MM-DD only (the schema's `format: date`; Python would also take
    `20260220`)."""

    def to_internal_value(self, value: Any):
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class JsonErrorsOnly(BaseContentNegotiation):
    """`format` is this endpoint's own parameter (csv or parquet), not DRF's renderer
    override (`?format=parquet` would otherwise be a 404 for want of such a renderer): the
    file is a streamed response, and errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
