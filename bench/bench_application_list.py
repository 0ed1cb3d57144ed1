"""Benchmark: GET /api/v1/applications/ over 100,000 applications on PostgreSQL.

Goal: p95 ≤ 100 ms, and a query count that does not grow with the page size.

Uses its own database (created when missing, then migrated): the name in DATABASE_URL, by
default postgres://postgres@127.0.0.1:5432/lendcore_bench_orig. 100,000 applications (and
10,000 applicants) are bulk-inserted once with COPY-sized `bulk_create` batches; a later run
reuses them. Requests go through the Django test client as a logged-in loan officer (the
full stack: middleware, session auth, DRF, serializer, JSON).

Run: `DATABASE_URL=postgres://… python bench/bench_application_list.py [requests]`.
Prints human lines and `BENCH application_list apps=… p95_ms=… queries=…`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lendcore.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lendcore_bench_orig")

TARGET = int(os.environ.get("BENCH_APPLICATIONS", "100000"))
APPLICANTS = max(1, TARGET // 10)
BATCH = 5000


def database_ensure(url: str) -> None:
    """Create the benchmark database when it does not exist (PostgreSQL only)."""
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(parts._replace(path="/postgres").geturl())
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'create database "{name}"')
                print(f"created database {name}")
    finally:
        conn.close()


if os.environ["DATABASE_URL"].startswith("postgres"):
    database_ensure(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

STATUSES = [
    "draft",
    "submitted",
    "in_review",
    "approved",
    "declined",
    "referred",
    "offer_accepted",
    "withdrawn",
    "expired",
]


def data_ensure() -> tuple[int, object]:
    from lendcore.accounts.models import Borrower  # noqa: F401
    from lendcore.accounts.roles import Role
    from lendcore.accounts.services import roles_sync, staff_user_create
    from origination import crypto
    from origination.demo import personal_product_ensure
    from origination.models import Applicant, Application

    call_command("migrate", verbosity=0, interactive=False)
    roles_sync()
    User = django.contrib.auth.get_user_model()
    officer = User.objects.filter(username="bench_officer").first() or staff_user_create(
        username="bench_officer", password="bench-password-1", role=Role.LOAN_OFFICER
    )
    product = personal_product_ensure()
    version = product.versions.order_by("-version").first()
    have = Application.objects.count()
    if have >= TARGET:
        return have, officer
    start = time.perf_counter()
    applicant_count = Applicant.objects.count()
    if applicant_count < APPLICANTS:
        ssn = crypto.encrypt("123459999")
        born = crypto.encrypt("1980-01-01")  # one token for every row: seeding stays cheap
        Applicant.objects.bulk_create(
            (
                Applicant(
                    first_name="Bench",
                    last_name=f"Applicant{i}",
                    date_of_birth_encrypted=born,
                    ssn_encrypted=ssn,
                    ssn_last4="9999",
                    email=f"bench{i}@example.com",
                    address_line1="1 Elm Street",
                    city="Springfield",
                    state="IL",
                    postal_code="62701",
                    monthly_income=Decimal("8000.00"),
                )
                for i in range(applicant_count, APPLICANTS)
            ),
            batch_size=BATCH,
        )
    applicant_ids = list(Applicant.objects.order_by("id").values_list("id", flat=True))
    now = timezone.now()
    remaining = TARGET - have
    for offset in range(0, remaining, BATCH):
        rows = []
        for i in range(offset, min(offset + BATCH, remaining)):
            n = have + i
            status = STATUSES[n % len(STATUSES)]
            rows.append(
                Application(
                    applicant_id=applicant_ids[n % len(applicant_ids)],
                    product=product,
                    product_version=version,
                    amount=Decimal(1000 + (n % 49) * 1000),
                    term=12 + n % 49,
                    frequency="monthly",
                    purpose="Debt consolidation",
                    channel=("portal", "staff", "api")[n % 3],
                    status=status,
                    created_by=officer,
                    assigned_officer=officer if n % 2 else None,
                    submitted_at=None if status == "draft" else now,
                )
            )
        Application.objects.bulk_create(rows, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - start
    print(f"inserted {remaining} applications in {elapsed:.1f} s")
    return Application.objects.count(), officer


def measure(client: Client, path: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:300]
    timings.sort()
    return timings


def p95(values: list[float]) -> float:
    return values[max(0, int(len(values) * 0.95) - 1)]


def main(runs: int = 300) -> None:
    setup_test_environment()
    total, officer = data_ensure()
    client = Client()
    client.force_login(officer)
    base = "/api/v1/applications/"
    for _ in range(20):  # warm up: connections, caches, code paths
        client.get(base)
    print(f"application list API, {connection.vendor}, {total} applications, {runs} requests each")
    queries: dict[int, int] = {}
    for size in (10, 50, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{base}?limit={size}")
        assert len(response.json()["results"]) == size
        queries[size] = len(ctx.captured_queries)
    cases = [
        ("default page (50)", base),
        ("limit=100", f"{base}?limit=100"),
        ("status=referred", f"{base}?status=referred"),
        ("deep offset 50,000", f"{base}?offset=50000"),
    ]
    results = {}
    for label, path in cases:
        timings = measure(client, path, runs if "offset" not in path else max(20, runs // 10))
        results[label] = timings
        print(
            f"  {label:<20} median {statistics.median(timings):7.2f} ms  p95 {p95(timings):7.2f} ms"
        )
    print("  queries per page size: " + ", ".join(f"{k}: {v}" for k, v in queries.items()))
    with CaptureQueriesContext(connection) as ctx:
        client.get(base)
    for query in ctx.captured_queries:
        sql = query["sql"]
        if "origination_application" in sql:
            print(f"    {query['time']}s  {sql[:160]}…")
    headline = p95(results["default page (50)"])
    grows = len(set(queries.values())) > 1
    print(
        f"  p95 {headline:.2f} ms (goal ≤ 100 ms); query count "
        f"{'GROWS' if grows else 'constant'} with page size"
    )
    print(
        f"BENCH application_list apps={total} p95_ms={headline:.2f} "
        f"queries={queries[50]} queries_by_size={queries[10]}/{queries[50]}/{queries[100]}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
