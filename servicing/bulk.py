"""One UPDATE for many rows of a model on PostgreSQL (`UPDATE ... FROM (VALUES ...)`).

Django's `bulk_update` builds a CASE expression per row and field, which costs more Python
than the statement costs PostgreSQL when a close-of-business partition writes a few dozen
rows. Elsewhere (SQLite) it is `bulk_update` itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of every (saved) object in `objs`, one statement."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, list(fields))
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    casts = [f"%s::{meta.pk.db_type(connection)}"] + [
        f"%s::{field.db_type(connection)}" for field in columns
    ]
    row = "(" + ", ".join(casts) + ")"
    names = ["pk"] + [f"c{n}" for n in range(len(columns))]
    assignments = ", ".join(f"{quote(field.column)} = v.c{n}" for n, field in enumerate(columns))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({', '.join(names)}) "
        f"WHERE t.{quote(meta.pk.column)} = v.pk"
    )
    params = []
    for obj in objs:
        params.append(obj.pk)
        for field in columns:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
