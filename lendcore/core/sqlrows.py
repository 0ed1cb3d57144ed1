"""One-row INSERT and UPDATE in plain SQL, for the writes every loan payment makes.

`Model.save()`, `QuerySet.create()` and `QuerySet.update()` compile their SQL on every
call; for the dozen one-row writes of a payment that compilation cost more CPU than
PostgreSQL spent executing them. These helpers build each statement once per model (and
field list) and bind the values exactly as the ORM does (`field.pre_save`, then
`field.get_db_prep_save`), so the stored row is the same. They send no model signals (use
them only for models without receivers) and are for plain rows: an auto-increment primary
key, no unsaved related objects.

Identifiers come from the models' `_meta` (quoted); every value is a bound parameter.
Each helper takes the default connection once (`db`) and binds values against it: every
attribute of the `connection` proxy is a thread-local lookup, and a payment's values asked
it about a hundred times.

On PostgreSQL these statements (and the hot reads that go through `execute`/`select_models`)
run as server-side prepared statements: PostgreSQL spent more CPU planning each of a
payment's short statements than running it, and psycopg2 only sends plain SQL (see
`execute`). Inside `write_batch.coalesced_writes()` the writes whose result nobody reads
back wait and go out together, as one statement (a payment's rows: one round trip).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

from lendcore.finance.money import ZERO, round_money

# Named statements one connection may hold; past this, statements run unprepared (a
# guard against SQL built with a varying text, which would never be reused).
MAX_PREPARED = 256

# The connection attribute that holds the writes waiting to go out as one statement
# (`lendcore.core.write_batch.coalesced_writes`); the helpers below hand theirs to it.
WAITING_WRITES = "_lendcore_waiting_writes"


def _waiting(db) -> Any:
    return db.__dict__.get(WAITING_WRITES)


def _send(db, sql: str, params: list, *, table: str, row: Any = None, insert: bool) -> None:
    """A write whose result is not read: handed to the batch waiting on `db`, which holds it
    unless it must follow a held one (`WriteBatch.add`), or sent now."""
    waiting = _waiting(db)
    if waiting is not None and waiting.add(sql, params, table=table, row=row, insert=insert):
        return
    with db.cursor() as cursor:
        execute(cursor, sql, params)


@lru_cache(maxsize=1024)
def _column_field(model: type[Model], name: str) -> Field:
    """The concrete field `name` of `model` (a column, never a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


# name -> the SQL it prepares, for `statement_text`
_PREPARED_TEXT: dict[str, str] = {}


@lru_cache(maxsize=2 * MAX_PREPARED)
def _prepared_form(sql: str) -> tuple[str, str, str] | None:
    """(name, PREPARE statement, EXECUTE template) for `sql` with `%s` placeholders, or None
    when its text holds another `%` (psycopg2's escapes: leave it to plain execution).
    Cached: a payment runs a dozen of these statements, each hashed and split once per
    process instead of once per use."""
    count = sql.count("%s")
    if sql.count("%") != count:
        return None
    name = "lc_" + hashlib.sha1(sql.encode()).hexdigest()[:24]  # noqa: S324 (a name, no secret)
    _PREPARED_TEXT[name] = sql
    parts = sql.split("%s")
    body = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
    call = f"EXECUTE {name}" + (f"({', '.join(['%s'] * count)})" if count else "")
    return name, f"PREPARE {name} AS {body}", call


def statement_text(sql: str) -> str:
    """The SQL that `sql` runs: for `EXECUTE name(...)` (a prepared statement of `execute`)
    the statement it prepared, else `sql` itself. For what looks at statements by their text
    (the fault-injection tests cut a transaction after a given INSERT)."""
    if sql.startswith("EXECUTE lc_"):
        name = sql[len("EXECUTE ") :].split("(", 1)[0].strip()
        return _PREPARED_TEXT.get(name, sql)
    return sql


def _prepared_names(db) -> set[str] | None:
    """The statements prepared on `db`'s current session (a new session starts empty), or
    None when `db` does not use prepared statements."""
    if db.vendor != "postgresql" or not getattr(settings, "DB_PREPARED_STATEMENTS", False):
        return None
    raw = db.connection
    state = db.__dict__.get("_lendcore_prepared")
    if state is None or state[0] is not raw:
        state = (raw, set())
        db.__dict__["_lendcore_prepared"] = state
    return state[1]


def execute(cursor, sql: str, params: Sequence[Any]) -> None:
    """`cursor.execute(sql, params)`; on PostgreSQL as a prepared statement of the session.

    The first use on a session sends PREPARE (on the driver's cursor: not a query of the
    request as Django counts them); every use then sends `EXECUTE name(values)`, values
    bound exactly as for the plain statement. Prepared statements outlive a rollback, and
    are gone with the session, which the registry follows (the driver connection object).
    The SQL must select named columns (not `*`): a prepared SELECT's row type is fixed, and
    a migration adding a column would otherwise fail it until the session ends. Not behind
    a transaction-pooling proxy (set DB_PREPARED_STATEMENTS=false there)."""
    names = _prepared_names(cursor.db)
    form = _prepared_form(sql) if names is not None else None
    if form is None or names is None:
        cursor.execute(sql, params)
        return
    name, prepare, call = form
    if name not in names:
        if len(names) >= MAX_PREPARED:
            cursor.execute(sql, params)
            return
        with cursor.db.wrap_database_errors:
            cursor.cursor.execute(prepare)
        names.add(name)
    cursor.execute(call, params)


def sql_money(value: Any) -> Decimal:
    """An amount read by plain SQL (a column or a sum; NULL: none): Decimal on PostgreSQL,
    a float or an int on SQLite (whose sums are floating point, as the ORM's are there),
    rounded to the cent as the ORM's DecimalField converter does."""
    if value is None:
        return ZERO
    return round_money(value if isinstance(value, Decimal) else Decimal(str(value)))


def sql_date(value: Any) -> date | None:
    """A DATE read by plain SQL (SQLite gives the ISO string)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _name(name: str | None) -> str:
    assert name is not None
    return connection.ops.quote_name(name)


def _columns(fields: Iterable[Field]) -> str:
    return ", ".join(_name(f.column) for f in fields)


@lru_cache(maxsize=64)
def _insert_statement(model: type[Model], vendor: str, rows: int) -> tuple[str, tuple, bool]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {_name(model._meta.db_table)} ({_columns(fields)}) "  # noqa: S608
        f"VALUES {', '.join([one] * rows)}"
    )
    returning = rows == 1 and connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {_name(model._meta.pk.column)}"
    return sql, fields, returning


@lru_cache(maxsize=64)
def _select_list(model: type[Model], vendor: str, alias: str) -> tuple[str, tuple[str, ...]]:
    """The model's concrete columns as a SELECT list (`alias.column, ...`) and their attnames."""
    fields = model._meta.concrete_fields
    columns = ", ".join(f"{alias}.{_name(f.column)}" for f in fields)
    return columns, tuple(f.attname for f in fields)


def select_columns(model: type[Model], alias: str) -> str:
    """`alias.col1, alias.col2, ...`: every concrete column of `model`, in field order, for a
    SELECT that `select_models` turns into instances."""
    db = connections[DEFAULT_DB_ALIAS]
    return _select_list(model, db.vendor, alias)[0]


@lru_cache(maxsize=64)
def _converters(model: type[Model], vendor: str) -> list[tuple[int, list, Any]]:
    """(column index, converter functions, column) for the fields whose value the ORM
    converts on the way in (the compiler asks the same two places)."""
    fields = model._meta.concrete_fields
    found = []
    for n, f in enumerate(fields):
        col = f.get_col(model._meta.db_table)
        funcs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        if funcs:
            found.append((n, funcs, col))
    return found


def select_models_extra(
    model: type[Model], sql: str, params: Sequence[Any]
) -> list[tuple[Model, tuple]]:
    """Instances of `model` from `sql`, whose SELECT list starts with `select_columns(model,
    ...)`, each with the row's extra columns after them; converted as the ORM converts
    (JSON, SQLite's types). `Model.objects.raw` without its per-call column mapping, run
    through `execute`."""
    db = connections[DEFAULT_DB_ALIAS]
    attnames = _select_list(model, db.vendor, "x")[1]
    width = len(attnames)
    converters = _converters(model, db.vendor)
    with db.cursor() as cursor:
        execute(cursor, sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = list(row[:width])
        for n, funcs, col in converters:
            for func in funcs:
                values[n] = func(values[n], col, db)
        found.append((model.from_db(db.alias, attnames, values), tuple(row[width:])))
    return found


def select_model_pairs(
    first: type[Model], second: type[Model], sql: str, params: Sequence[Any]
) -> list[tuple[Model, Model, tuple]]:
    """Like `select_models_extra` for a join: the SELECT list is `select_columns(first, ...)`,
    then `select_columns(second, ...)`, then any extra columns."""
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        execute(cursor, sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        start = 0
        pair = []
        for model in (first, second):
            attnames = _select_list(model, db.vendor, "x")[1]
            values = list(row[start : start + len(attnames)])
            for n, funcs, col in _converters(model, db.vendor):
                for func in funcs:
                    values[n] = func(values[n], col, db)
            pair.append(model.from_db(db.alias, attnames, values))
            start += len(attnames)
        found.append((pair[0], pair[1], tuple(row[start:])))
    return found


def select_models(model: type[Model], sql: str, params: Sequence[Any]) -> list[Model]:
    """`select_models_extra` without the extra columns."""
    return [obj for obj, _ in select_models_extra(model, sql, params)]


def insert_row(obj: Model) -> None:
    """INSERT `obj` (a new row) and set its primary key, like `obj.save(force_insert=True)`."""
    db = connections[DEFAULT_DB_ALIAS]
    model = type(obj)
    if obj.pk is not None:
        raise ValueError(f"insert_row: {model.__name__} already has a primary key")
    waiting = _waiting(db)
    if waiting is not None and (pk := waiting.id_take(model)) is not None:
        obj.pk = pk  # drawn beforehand: the row can wait (`write_batch`)
        sql, fields = _insert_keyed_statement(model, db.vendor)
        params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
        _send(db, sql, params, table=model._meta.db_table, row=pk, insert=True)
        obj._state.adding, obj._state.db = False, db.alias
        return
    sql, fields, returning = _insert_statement(model, db.vendor, 1)
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    with db.cursor() as cursor:
        execute(cursor, sql, params)
        obj.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj._state.adding = False
    obj._state.db = db.alias


@lru_cache(maxsize=64)
def _insert_columns_statement(model: type[Model], vendor: str, names: tuple[str, ...]) -> str:
    fields = tuple(_column_field(model, name) for name in names)
    return (
        f"INSERT INTO {_name(model._meta.db_table)} ({_columns(fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )


@lru_cache(maxsize=64)
def _insert_keyed_statement(model: type[Model], vendor: str) -> tuple[str, tuple]:
    """INSERT of every concrete column, the primary key included (a key drawn beforehand)."""
    fields = tuple(model._meta.concrete_fields)
    return _insert_columns_statement(model, vendor, tuple(f.name for f in fields)), fields


def insert_values(model: type[Model], values: Mapping[str, Any]) -> None:
    """INSERT one row of `model` with only the named fields; every other column takes its
    database default (a `db_default` such as a creation time, NULL). Values are bound as
    the ORM binds them (`get_db_prep_save`); the primary key is not read back."""
    db = connections[DEFAULT_DB_ALIAS]
    names = tuple(values)
    sql = _insert_columns_statement(model, db.vendor, names)
    params = [_column_field(model, name).get_db_prep_save(values[name], db) for name in names]
    _send(db, sql, params, table=model._meta.db_table, insert=True)


def model_values(obj: Model) -> tuple[type[Model], dict[str, Any]]:
    """(model, values) of a new instance for `insert_together`: every concrete column but the
    primary key, as `insert_row` would write it (`pre_save`: `auto_now_add` and the like)."""
    model = type(obj)
    fields = _insert_statement(model, connection.vendor, 1)[1]
    return model, {f.name: f.pre_save(obj, True) for f in fields}


@lru_cache(maxsize=64)
def _insert_together_statement(
    shape: tuple[tuple[type[Model], tuple[str, ...]], ...], vendor: str
) -> str:
    statements = [_insert_columns_statement(model, vendor, names) for model, names in shape]
    ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(statements[:-1]))
    return f"WITH {ctes} {statements[-1]}"


def insert_together(rows: Sequence[tuple[type[Model], Mapping[str, Any]]]) -> None:
    """`insert_values` for each (model, values), in one statement on PostgreSQL (data-
    modifying CTEs: one round trip for rows that do not refer to one another, such as a
    payment's loan event and its outbox event); one statement each elsewhere."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or len(rows) < 2 or _waiting(db) is not None:
        for model, values in rows:
            insert_values(model, values)
        return
    shape = tuple((model, tuple(values)) for model, values in rows)
    sql = _insert_together_statement(shape, db.vendor)
    params = [
        _column_field(model, name).get_db_prep_save(value, db)
        for model, values in rows
        for name, value in values.items()
    ]
    with db.cursor() as cursor:
        execute(cursor, sql, params)


def insert_rows(objs: Sequence[Model]) -> None:
    """INSERT a few new rows of one model in one statement (their primary keys are not read
    back: for rows nothing refers to afterwards, such as journal lines)."""
    db = connections[DEFAULT_DB_ALIAS]
    if not objs:
        return
    model = type(objs[0])
    sql, fields, _ = _insert_statement(model, db.vendor, len(objs))
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for obj in objs for f in fields]
    _send(db, sql, params, table=model._meta.db_table, insert=True)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


@lru_cache(maxsize=64)
def _update_statement(model: type[Model], vendor: str, names: tuple[str, ...]) -> tuple[str, tuple]:
    fields = tuple(_column_field(model, name) for name in names)
    assignments = ", ".join(f"{_name(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {_name(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {_name(model._meta.pk.column)} = %s"
    )
    return sql, fields


def update_row(obj: Model, names: Iterable[str]) -> None:
    """UPDATE the named fields of `obj`'s row, like `obj.save(update_fields=names)`
    (an `auto_now` field among them gets the current time)."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, fields = _update_statement(type(obj), db.vendor, tuple(names))
    params = [f.get_db_prep_save(f.pre_save(obj, False), db) for f in fields]
    params.append(obj.pk)
    _send(db, sql, params, table=obj._meta.db_table, row=obj.pk, insert=False)


def update_many(objs: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE the named fields of many saved rows of one model in one statement
    (`UPDATE ... FROM (VALUES ...)` on PostgreSQL; `bulk_update` elsewhere). Django's
    `bulk_update` builds a CASE per row and field, which costs more Python than the
    statement costs the database at a close-of-business partition's few dozen rows. An
    `auto_now` field among the names gets the current time, as with `update_row`."""
    db = connections[DEFAULT_DB_ALIAS]
    if not objs:
        return
    model = type(objs[0])
    fields = [_column_field(model, name) for name in names]
    if db.vendor != "postgresql":
        for obj in objs:
            for f in fields:
                setattr(obj, f.attname, f.pre_save(obj, False))
        model._default_manager.bulk_update(objs, list(names))
        return
    pk = model._meta.pk
    # every value cast to its column's type (a VALUES list types its columns alone)
    row = "(" + ", ".join(f"%s::{f.db_type(db)}" for f in (pk, *fields)) + ")"
    assignments = ", ".join(f"{_name(f.column)} = v.c{n}" for n, f in enumerate(fields))
    columns = ", ".join(["pk", *(f"c{n}" for n in range(len(fields)))])
    sql = (
        f"UPDATE {_name(model._meta.db_table)} AS t SET {assignments} "  # noqa: S608
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({columns}) "
        f"WHERE t.{_name(pk.column)} = v.pk"
    )
    params: list[Any] = []
    for obj in objs:
        params.append(obj.pk)
        params.extend(f.get_db_prep_save(f.pre_save(obj, False), db) for f in fields)
    with db.cursor() as cursor:
        cursor.execute(sql, params)  # not prepared: its text varies with the number of rows


@lru_cache(maxsize=16)
def _insert_with_children_statement(
    parent: type[Model], child: type[Model], fk: str, vendor: str, rows: int
) -> tuple[str, tuple, tuple]:
    parent_fields = tuple(f for f in parent._meta.concrete_fields if not f.primary_key)
    fk_field = _column_field(child, fk)
    child_fields = tuple(
        f for f in child._meta.concrete_fields if not f.primary_key and f is not fk_field
    )
    # every child value cast to its column's type (a VALUES list types its columns alone)
    one = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in child_fields) + ")"
    names = ", ".join(f"v{n}" for n in range(len(child_fields)))
    sql = (
        f"WITH p AS (INSERT INTO {_name(parent._meta.db_table)} "  # noqa: S608
        f"({_columns(parent_fields)}) VALUES ({', '.join(['%s'] * len(parent_fields))}) "
        f"RETURNING {_name(parent._meta.pk.column)} AS id) "
        f"INSERT INTO {_name(child._meta.db_table)} "
        f"({_name(fk_field.column)}, {_columns(child_fields)}) "
        f"SELECT p.id, {names} FROM p CROSS JOIN (VALUES {', '.join([one] * rows)}) "
        f"AS v({names}) RETURNING {_name(fk_field.column)}"
    )
    return sql, parent_fields, child_fields


def can_combine_writes() -> bool:
    """Whether `insert_with_children` and `update_rows` write in one statement (PostgreSQL)."""
    db = connections[DEFAULT_DB_ALIAS]
    return db.vendor == "postgresql"


def insert_with_children(parent: Model, children: Sequence[Model], fk: str) -> None:
    """INSERT `parent` (a new row) and its `children` (new rows of one model whose foreign key
    field `fk` points to it) in one statement, a data-modifying CTE; sets the parent's primary
    key and the children's `fk`. PostgreSQL only (`can_combine_writes`); the children's
    primary keys are not read back."""
    db = connections[DEFAULT_DB_ALIAS]
    if parent.pk is not None:
        raise ValueError(f"insert_with_children: {type(parent).__name__} has a primary key")
    if not children:
        raise ValueError("insert_with_children: no children")
    waiting = _waiting(db)
    pk = waiting.id_take(type(parent)) if waiting is not None else None
    if pk is not None:  # drawn beforehand: the parent and its children wait (`write_batch`)
        parent.pk = pk
        sql, fields = _insert_keyed_statement(type(parent), db.vendor)
        params = [f.get_db_prep_save(f.pre_save(parent, True), db) for f in fields]
        _send(db, sql, params, table=parent._meta.db_table, row=pk, insert=True)
        parent._state.adding, parent._state.db = False, db.alias
        attname = _column_field(type(children[0]), fk).attname
        for obj in children:
            setattr(obj, attname, pk)
        insert_rows(children)
        return
    sql, parent_fields, child_fields = _insert_with_children_statement(
        type(parent), type(children[0]), fk, db.vendor, len(children)
    )
    params = [f.get_db_prep_save(f.pre_save(parent, True), db) for f in parent_fields]
    params += [
        f.get_db_prep_save(f.pre_save(obj, True), db) for obj in children for f in child_fields
    ]
    with db.cursor() as cursor:
        execute(cursor, sql, params)
        parent.pk = cursor.fetchone()[0]
    for obj in (parent, *children):
        obj._state.adding = False
        obj._state.db = db.alias
    attname = _column_field(type(children[0]), fk).attname
    for obj in children:
        setattr(obj, attname, parent.pk)


def update_rows(updates: Sequence[tuple[Model, Iterable[str]]]) -> None:
    """`update_row` for each (obj, names), in one statement on PostgreSQL (data-modifying
    CTEs, each a one-row UPDATE); one statement each elsewhere."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or len(updates) < 2 or _waiting(db) is not None:
        for obj, names in updates:
            update_row(obj, names)
        return
    parts, params = [], []
    for obj, names in updates:
        sql, fields = _update_statement(type(obj), db.vendor, tuple(names))
        parts.append(sql)
        params += [f.get_db_prep_save(f.pre_save(obj, False), db) for f in fields]
        params.append(obj.pk)
    *first, last = parts
    sql = "WITH " + ", ".join(f"u{n} AS ({part} RETURNING 1)" for n, part in enumerate(first))
    with db.cursor() as cursor:
        execute(cursor, f"{sql} {last}", params)
