"""A transaction's consecutive writes in one statement: one round trip for a payment's rows.

Inside `coalesced_writes()` (PostgreSQL; elsewhere it changes nothing) the writes of
`lendcore.core.sqlrows` whose result nobody reads back wait instead of going out at once.
They go together, as one statement of data-modifying CTEs, as soon as anything else is sent
on the connection (a read, a savepoint, any statement of the ORM) and when the block ends.
The database runs the same writes, in the same order, in the same transaction: what it
commits is the same. A payment's nine writes cost it one round trip instead of seven.

What waits:
- an INSERT whose primary key nobody reads back (events, journal lines, an idempotent
  answer), or whose key was drawn beforehand (`reservation`: a payment, its journal entry,
  its allocation, keys drawn by a read the payment makes anyway);
- a one-row UPDATE by primary key.

A write goes out after the held ones instead (they are sent first) when it writes a row a
held write writes (the CTEs of one statement all see the snapshot it started with: it
would not see the first write), or inserts into a table a held write inserts into (the
CTEs of one statement run in no set order: the later row could draw the lower key, and
the outbox's events, for one, are delivered in key order).

A waiting write that fails (a unique key taken) fails where the statement goes out: at the
next statement, at a savepoint's end (so `transaction.atomic()` blocks inside still see
their own errors), or at the end of the block. Either way it fails inside the transaction,
which then rolls back as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from lendcore.core.sqlrows import WAITING_WRITES, execute


class WriteBatch:
    """The writes waiting on one connection (see the module)."""

    def __init__(self, db) -> None:
        self.db = db
        self.statements: list[str] = []
        self.params: list[Any] = []
        self.rows: set[tuple[str, Any]] = set()  # (table, primary key) a held write writes
        self.tables: set[str] = set()  # the tables held writes insert into
        self.ids: dict[type[Model], list[int]] = {}

    def add(
        self, sql: str, params: Sequence[Any], *, table: str, row: Any = None, insert: bool
    ) -> bool:
        """Hold a write (a plain INSERT or UPDATE of `table`, no WITH of its own; `row`: the
        primary key of the row it writes, when known). False, and nothing held, when it must
        follow a held write (see the module)."""
        if (insert and table in self.tables) or (row is not None and (table, row) in self.rows):
            return False
        if insert:
            self.tables.add(table)
        if row is not None:
            self.rows.add((table, row))
        self.statements.append(sql)
        self.params.extend(params)
        return True

    def id_take(self, model: type[Model]) -> int | None:
        """A primary key of `model` drawn for this batch (`reservation`), or None."""
        ids = self.ids.get(model)
        return ids.pop() if ids else None

    def flush(self) -> None:
        """Send the held writes, as one statement."""
        if not self.statements:
            return
        statements, params = self.statements, self.params
        self.discard()
        *first, last = statements
        sql = last
        if first:
            sql = "WITH " + ", ".join(f"w{n} AS ({s})" for n, s in enumerate(first)) + " " + last
        with self.db.cursor() as cursor:  # through `_flush_first`: nothing held by then
            execute(cursor, sql, params)

    def discard(self) -> None:
        self.statements, self.params, self.rows, self.tables = [], [], set(), set()

    def _flush_first(self, run, sql, params, many, context):
        """The connection's execute wrapper: what is held goes out before any statement."""
        self.flush()
        return run(sql, params, many, context)


class Reservation:
    """Primary keys drawn for a batch by a read the caller makes anyway: `sql` is the read's
    extra columns (one `nextval` a model), `fill` takes their values."""

    def __init__(self, batch: WriteBatch, models: Sequence[type[Model]]) -> None:
        self.batch = batch
        self.models = tuple(models)
        self.sql = ", ".join(
            f"nextval(pg_get_serial_sequence('{m._meta.db_table}', '{m._meta.pk.column}'))"
            for m in self.models
        )

    def fill(self, values: Sequence[Any]) -> None:
        for model, value in zip(self.models, values, strict=True):
            self.batch.ids.setdefault(model, []).append(int(value))


def reservation(batch: WriteBatch | None, *models: type[Model]) -> Reservation | None:
    """Keys of `models` to draw for `batch`; None without a batch (nothing to draw). A key
    drawn and not used (the payment took another path) is a gap in the sequence, as a
    rolled-back insert leaves."""
    return Reservation(batch, models) if batch is not None else None


@contextmanager
def coalesced_writes() -> Iterator[WriteBatch | None]:
    """Hold `sqlrows`' writes and send them together (see the module). Inside a transaction.
    Yields the batch (for `reservation`); None where writes go out one by one (not
    PostgreSQL). Within another such block: that block's batch, which it sends at its end.
    An exception out of the block drops what is held and marks the transaction for
    rollback, so that nothing commits without the writes the code made before it."""
    db = connections[DEFAULT_DB_ALIAS]
    outer = db.__dict__.get(WAITING_WRITES)
    if outer is not None or db.vendor != "postgresql":
        yield outer
        return
    if db.get_autocommit():
        raise RuntimeError("coalesced_writes holds writes for a transaction: open one first")
    batch = WriteBatch(db)
    db.__dict__[WAITING_WRITES] = batch
    try:
        with db.execute_wrapper(batch._flush_first):
            try:
                yield batch
            except BaseException:
                batch.discard()
                if db.in_atomic_block:
                    db.set_rollback(True)
                raise
            batch.flush()
    finally:
        db.__dict__.pop(WAITING_WRITES, None)
