"""A transaction's deferred constraint checks, run before its COMMIT so that they can be timed.

PostgreSQL checks deferred constraints when the transaction commits: Django's foreign keys
(DEFERRABLE INITIALLY DEFERRED) and servicing's ledger check (a deferred constraint trigger).
A batch that writes thousands of child rows, close of business, pays tens of milliseconds
there, where no step clock sees it. `deferred_checks_now` runs them at once instead, raising
as the COMMIT would, and leaves the rest of the transaction deferred as before.
"""

from __future__ import annotations

from django.db import connection


def deferred_checks_now() -> bool:
    """Check every deferred constraint of what the transaction wrote so far, now; later
    writes are checked at COMMIT again. Returns whether the database checked anything
    (SQLite checks its foreign keys as each statement runs)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Every deferrable constraint of the schema is initially deferred (a test holds it),
        # so this puts each back as it was for the rest of the transaction.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return True
