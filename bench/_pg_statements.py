"""Where a benchmark's database time goes, statement by statement: pg_stat_statements, read
for one database between a reset and a report.

The summed step seconds a benchmark prints are wall time inside each worker process; with two
processes and their two backends on two cores they include waiting for a core. The server's
own execution time per statement says which statements cost the night.

Needs `shared_preload_libraries = 'pg_stat_statements'` on the server (a restart); without it
`available` says so and the benchmark goes on without the profile. The extension's view is
created in the maintenance database (`postgres`), which reads every database's statements.
"""

from __future__ import annotations

import re

import psycopg2

WHITESPACE = re.compile(r"\s+")
LABEL_CHARS = 88


def _connect(pg: str):
    conn = psycopg2.connect(f"{pg}/postgres")
    conn.autocommit = True
    return conn


def available(pg: str) -> bool:
    """Whether the server collects statements (the library preloaded); creates the view."""
    conn = _connect(pg)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW shared_preload_libraries")
            if "pg_stat_statements" not in cursor.fetchone()[0]:
                return False
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return True
    finally:
        conn.close()


def reset(pg: str) -> None:
    conn = _connect(pg)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_stat_statements_reset()")
    finally:
        conn.close()


def label(query: str) -> str:
    """A statement's first characters, whitespace folded: enough to find it in the code (the
    project's set-based statements open with a named CTE and a comment)."""
    return WHITESPACE.sub(" ", query).strip()[:LABEL_CHARS]


def report(pg: str, db: str, top: int) -> list[str]:
    """The `top` statements of database `db` since the last reset, by execution time, with
    their share of the database's whole time, calls and time per call."""
    conn = _connect(pg)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT s.query, s.calls, s.total_exec_time FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s",
                [db],
            )
            rows = cursor.fetchall()
    finally:
        conn.close()
    grouped: dict[str, list[float]] = {}  # label: [calls, milliseconds]
    for query, calls, ms in rows:
        if query.startswith(("CHECKPOINT", "SELECT w.wal_bytes")):  # the benchmark's own
            continue
        totals = grouped.setdefault(label(query), [0, 0.0])
        totals[0] += calls
        totals[1] += ms
    whole = sum(ms for _, ms in grouped.values()) or 1.0
    lines = [f"database time {whole / 1000:.2f} s in {len(grouped)} statement shape(s); top {top}:"]
    for text, (calls, ms) in sorted(grouped.items(), key=lambda kv: -kv[1][1])[:top]:
        lines.append(
            f"  {ms / 1000:6.2f} s {100 * ms / whole:5.1f} %  {int(calls):>7,} call(s) "
            f"{ms / max(calls, 1):8.2f} ms  {text}"
        )
    return lines
