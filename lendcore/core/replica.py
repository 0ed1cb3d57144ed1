"""Heavy reads on a read replica; everything else on the primary.

With `DATABASE_REPLICA_URL` set, settings define a second database alias, `replica` (a
streaming replica of the primary, possibly seconds behind). Only the reads that ask for it go
there, explicitly: exports (the GL and audit CSVs), the staff dashboard's portfolio
aggregates, and later the loan tape and reports. Every other read stays on `default`, so a
request still reads its own writes. Without the variable there is no `replica` alias and the
same code reads from `default`.

Two ways to ask, both here:
- `using_replica(qs)`: that QuerySet (and the related rows it loads) from the replica;
- `with read_replica():` every read inside the block that no `.using()` pins (a selector that
  runs several queries); writes inside still go to `default`.

`PrimaryReplicaRouter` (settings.DATABASE_ROUTERS) sends every write to `default`, migrates
only `default` (the replica gets the schema by replication) and allows relations across the
two aliases (they hold the same rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model, QuerySet

REPLICA = "replica"

_M = TypeVar("_M", bound=Model)
_reads_on_replica: ContextVar[bool] = ContextVar("lendcore_reads_on_replica", default=False)


def replica_configured() -> bool:
    """Whether settings define the `replica` alias (DATABASE_REPLICA_URL set)."""
    return REPLICA in settings.DATABASES


def replica_alias() -> str:
    """The alias heavy reads use: `replica` when configured, else `default`."""
    return REPLICA if replica_configured() else DEFAULT_DB_ALIAS


def using_replica(queryset: QuerySet[_M]) -> QuerySet[_M]:
    """`queryset` read from the replica (from `default` when none is configured)."""
    return queryset.using(replica_alias())


@contextmanager
def read_replica() -> Iterator[str]:
    """Inside the block, reads not pinned by `.using()` go to the replica; yields the alias."""
    token = _reads_on_replica.set(True)
    try:
        yield replica_alias()
    finally:
        _reads_on_replica.reset(token)


class PrimaryReplicaRouter:
    """Writes and migrations on `default`; reads there too unless a heavy read asks."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if _reads_on_replica.get() and replica_configured():
            return REPLICA
        # None: Django follows the instance hint (a related row of a row read from the
        # replica is read there too), else `default`
        return None

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
