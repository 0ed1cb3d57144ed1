"""Benchmark: the collections queue with N open cases (issue 11: 100,000).

Goal: `GET /api/v1/collections/cases/` and the staff queue page answer with p95 <= 200 ms, with
a query count that does not grow with the page size; the floor is an authenticated
`GET /api/v1/business-date/` with the same client, timed interleaved in the same run
(`../shared/bench/README.md`: machines differ by up to 2x, the ratio does not).

On its own PostgreSQL database (`lendcore_bench_coll` on the DATABASE_URL server, dropped and
created again): migrates, seeds N active loans with close of business's benchmark seed
(`bench_cob.SEED_SQL`; a tenth moved to a second product), then one open case per loan spread
over the buckets, with priorities (about fifty cases share each priority, so pages cut
through ties) and 20 collectors assigned round-robin (INSERT ... SELECT). Then times, through
the Django test client after a warm-up, interleaved, `--runs` times each:

- the API as a collections manager: the first page at 50 and 200 a page (every case, no
  status), a page deep into the queue (the cursor of the case at position N/2, as if `next`
  had been followed N/100 times) at 50 and 200, the page before it (`previous`), the open
  cases, a bucket's first and deep pages, a product's first page; `assignee=me` as a
  collector;
- the queue page as a collector: the first page, a deep page (cursor), a bucket's page;

printing each one's median, p95 and query count (the API's at 50 and 200 a page, the page's at
25 and 100), and
`BENCH collections_queue cases=N api_p95_ms=<worst API probe> page_p95_ms=<worst page probe>
floor_p95_ms=… api_ratio=… page_ratio=… api_first_p95_ms=… api_deep_p95_ms=…
page_deep_p95_ms=… queries_50=… queries_200=… queries_deep_50=… queries_deep_200=…
page_queries_25=… page_queries_100=…`.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
      .venv/bin/python bench/bench_collections.py --cases 100000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _servicing_bench import database_url, django_setup, percentile, recreate_database

FLOOR_PATH = "/api/v1/business-date/"
COLLECTORS = 20
BUCKETS = ("1-29", "30-59", "60-89", "90-119", "120+")
PRODUCT = "AUTO"  # a tenth of the loans; the rest are the seed's PERSONAL
API = "/api/v1/collections/cases/"

CASES_SQL = """
INSERT INTO collections_app_collectioncase (loan_id, status, opened_on, bucket, product_code,
    assignee_id, priority, amount_past_due, dpd, outcome, reviewed_on, created_at,
    follow_up_channel, follow_up_note, disputed)
SELECT l.id, 'open', date '2026-06-01', b.bucket, l.product_code,
       c.ids[1 + l.id % %(collectors)s],
       ((l.id * 7919) % 1000003) / 500 * 100, 100.00 + l.id % 900, 1 + (l.id % 150), '',
       date '2026-06-15', now(), '', '', false
  FROM servicing_loan l
 CROSS JOIN (SELECT array_agg(id ORDER BY id) ids FROM auth_user
              WHERE username LIKE 'bench_collector_%') c
 CROSS JOIN LATERAL (SELECT (%(buckets)s)[1 + l.id % 5] AS bucket) b
 WHERE l.id <= %(n)s
"""


def build(n: int):
    """N loans and N open cases; returns (manager token, collector user, manager user)."""
    import bench_cob
    from django.db import connection, transaction

    from lendcore.accounts.roles import Role
    from lendcore.accounts.services import api_token_issue, staff_user_create

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = bench_cob.SEED_SQL.replace("%(n)s", str(int(n))).replace(
            "%(day)s", f"'{bench_cob.DAY}'"
        )
        sql = sql.replace("%(token)s", "''").replace("%(routing)s", "''")
        for statement in sql.split(";\n"):
            if statement.strip():
                cursor.execute(statement)
    collectors = [
        staff_user_create(
            username=f"bench_collector_{i:02d}", password="bench-pass-123", role=Role.COLLECTOR
        )
        for i in range(COLLECTORS)
    ]
    manager = staff_user_create(
        username="bench_manager", password="bench-pass-123", role=Role.COLLECTIONS_MANAGER
    )
    buckets = "ARRAY[" + ", ".join(f"'{b}'" for b in BUCKETS) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        # the product first: a case keeps its loan's product
        cursor.execute(f"UPDATE servicing_loan SET product_code = '{PRODUCT}' WHERE id % 10 = 0")
        cursor.execute(
            CASES_SQL.replace("%(collectors)s", str(COLLECTORS))
            .replace("%(buckets)s", buckets)
            .replace("%(n)s", str(int(n)))
        )  # no parameters: psycopg2 leaves the % signs alone
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM collections_app_collectioncase WHERE status='open'")
        (open_cases,) = cursor.fetchone()
    seconds = time.perf_counter() - started
    print(f"  seeded {n:,} loans and {open_cases:,} open cases in {seconds:.1f}s")
    token = api_token_issue(user=manager).key
    return token, collectors[0], manager, open_cases


def _timed(client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def _deep_cursor(where: str, position: int, direction: str = "n") -> str:
    """The cursor of the case at `position` (0-based) of the queue narrowed by `where`, as
    `next` (n) or `previous` (p) would carry it: found here untimed, as if the pages before
    had been followed."""
    from django.db import connection

    from lendcore.core.keyset import cursor_encode

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.priority, c.id FROM collections_app_collectioncase c "
            f"JOIN servicing_loan l ON l.id = c.loan_id WHERE {where} "
            "ORDER BY c.priority DESC, c.id OFFSET %s LIMIT 1",
            [position],
        )
        priority, pk = cursor.fetchone()
    return cursor_encode(direction, priority, pk)


def measure(token: str, collector, *, cases: int, runs: int, warmup: int):
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    api = Client(headers={"Authorization": f"Token {token}"})
    mine = Client()
    mine.force_login(collector)
    collector_api = Client()
    collector_api.force_login(collector)
    queue = reverse("web:staff-collections")
    half = cases // 2
    deep = _deep_cursor("true", half)
    before = _deep_cursor("true", half, "p")
    deep_open = _deep_cursor("c.status = 'open'", half)
    bucket_deep = _deep_cursor("c.bucket = '60-89'", cases // 10)
    probes = {
        "floor": (api, FLOOR_PATH),
        "api_first_50": (api, f"{API}?limit=50"),
        "api_first_200": (api, f"{API}?limit=200"),
        "api_deep_50": (api, f"{API}?limit=50&cursor={deep}"),
        "api_deep_200": (api, f"{API}?limit=200&cursor={deep}"),
        "api_previous": (api, f"{API}?limit=50&cursor={before}"),
        "api_open": (api, f"{API}?status=open&limit=50"),
        "api_open_deep": (api, f"{API}?status=open&limit=50&cursor={deep_open}"),
        "api_bucket": (api, f"{API}?bucket=60-89&limit=50"),
        "api_bucket_deep": (api, f"{API}?bucket=60-89&limit=50&cursor={bucket_deep}"),
        "api_product": (api, f"{API}?product={PRODUCT}&limit=50"),
        "api_mine": (collector_api, f"{API}?assignee=me&limit=50"),
        "page": (mine, queue),
        "page_deep": (mine, f"{queue}?cursor={deep_open}"),
        "page_bucket": (mine, f"{queue}?bucket=90-119"),
    }
    queries = {}
    for name, (client, path) in probes.items():
        for _ in range(warmup):
            _timed(client, path)
        with CaptureQueriesContext(connection) as captured:
            _timed(client, path)
        queries[name] = len(captured)
    for size in (25, 100):  # the queue page's query count at two page sizes
        with override_settings(COLLECTIONS_QUEUE_PAGE_SIZE=size):
            for path in (queue, f"{queue}?cursor={deep_open}"):
                with CaptureQueriesContext(connection) as captured:
                    _timed(mine, path)
                queries[f"page_{size}" + ("_deep" if "cursor" in path else "")] = len(captured)
    timings: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(runs):  # interleaved: drift in the machine's load hits all alike
        for name, (client, path) in probes.items():
            timings[name].append(_timed(client, path))
    return timings, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--database", default="lendcore_bench_coll")
    args = parser.parse_args()

    url = database_url(args.database)
    recreate_database(url)
    django_setup(url)
    token, collector, _manager, open_cases = build(args.cases)
    timings, queries = measure(
        token, collector, cases=open_cases, runs=args.runs, warmup=args.warmup
    )
    p95 = {}
    floor = percentile(sorted(timings["floor"]), 95)
    for name, values in timings.items():
        values.sort()
        p95[name] = percentile(values, 95)
        print(
            f"  {name:15s} median {statistics.median(values):7.2f} ms  p95 {p95[name]:7.2f} ms  "
            f"x{p95[name] / floor:5.2f} floor  {queries[name]} queries"
        )
    print(
        "  queue page queries: 25 a page {page_25} (deep {page_25_deep}), "
        "100 a page {page_100} (deep {page_100_deep})".format(**queries)
    )
    api_p95 = max(p95[n] for n in p95 if n.startswith("api_"))
    page_p95 = max(p95[n] for n in p95 if n.startswith("page"))
    flat = (
        queries["api_first_50"] == queries["api_first_200"]
        and queries["api_deep_50"] == queries["api_deep_200"]
        and queries["page_25"] == queries["page_100"]
        and queries["page_25_deep"] == queries["page_100_deep"]
    )
    met = api_p95 <= 200 and page_p95 <= 200 and flat
    print(
        "  goal: p95 <= 200 ms for the API and the queue page, queries flat in page size -> "
        + ("met" if met else "NOT met")
    )
    print(
        f"BENCH collections_queue cases={open_cases} api_p95_ms={api_p95:.2f} "
        f"page_p95_ms={page_p95:.2f} floor_p95_ms={floor:.2f} "
        f"api_ratio={api_p95 / floor:.2f} page_ratio={page_p95 / floor:.2f} "
        f"api_first_p95_ms={max(p95['api_first_50'], p95['api_first_200']):.2f} "
        f"api_deep_p95_ms={max(p95['api_deep_50'], p95['api_deep_200']):.2f} "
        f"page_deep_p95_ms={p95['page_deep']:.2f} "
        f"queries_50={queries['api_first_50']} queries_200={queries['api_first_200']} "
        f"queries_deep_50={queries['api_deep_50']} queries_deep_200={queries['api_deep_200']} "
        f"page_queries_25={queries['page_25']} page_queries_100={queries['page_100']}"
    )


if __name__ == "__main__":
    main()
