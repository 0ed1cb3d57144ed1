"""Query strings read as the schema describes them: one value per parameter."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
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
