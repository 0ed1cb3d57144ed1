"""Read-only queries run side by side, each on a connection of its own thread.

Close of business ends with a few large aggregates (the portfolio snapshot, the day's ledger
totals) while the worker's other processes sit idle: on PostgreSQL they can run at once, one
backend each. A side connection sees committed rows only, so the caller says whether every row
the reads need is committed (`committed`): not when it runs inside a transaction of its caller
that wrote them (a test's, an eager run's), where the reads run one after the other on the
caller's own connection. Only reads go to the side: what they return is written by the caller,
in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection, connections

T = TypeVar("T")


def side_by_side_possible() -> bool:
    """Whether reads may go to side connections now: PostgreSQL (SQLite's in-memory test
    databases are one per connection) and no transaction of a caller open on this one."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def reads_side_by_side(reads: Sequence[Callable[[], T]], *, committed: bool) -> list[T]:
    """Each read's result, in order: run at once on connections of their own threads when
    `committed` (every row they read is committed) and there are several, else one after the
    other here."""
    if not committed or len(reads) < 2:
        return [read() for read in reads]

    def run(read: Callable[[], T]) -> T:
        try:
            return read()
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=len(reads)) as pool:
        return list(pool.map(run, reads))
