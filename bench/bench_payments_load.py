"""Benchmark: payment posting through the API under gunicorn + PostgreSQL.

Goal: at least a quarter of the floor's rate (an authenticated GET on the same server, same
client, same run) with p99 <= 150 ms; machines differ by up to 2x, the ratio does not.

What it does, on its own database (`lendcore_bench` on the DATABASE_URL server, dropped
and created again):
  1. migrates, seeds N loans through `loan_board` (B borrowers, each with an API token),
     accrues them to the business date;
  2. starts gunicorn (production settings, W sync workers: 3 by default, as deployed, see
     README) on a free loopback port;
  3. the floor: the same client (threads, connections) GETs /api/v1/business-date/ with a
     token, the cheapest authenticated request of the stack, for the same time, taking
     turns with the payments (`--rounds`, 4 by default) so that a drift in the machine's
     speed weighs on both alike;
  4. a thread pool POSTs /api/v1/loans/{id}/payments/ with a servicing agent's token (one
     agent per client thread: borrowers' own payments are rail debits that post when they
     settle, see README) and a fresh Idempotency-Key per request, round-robin over the loans,
     for a bounded time and count;
  5. checks every 201 posted exactly once and the ledger reconciles, prints throughput and
     latency percentiles, and `BENCH payments_api payments_per_s=… floor_get_per_s=… ratio=…
     p50_ms=… p99_ms=…` (ratio = payments per second / the floor's GETs per second).
  `--profile` then profiles 200 payments in-process (cProfile + query counts) on the same data.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
      .venv/bin/python bench/bench_payments_load.py
"""

from __future__ import annotations

import argparse
import base64
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _servicing_bench import (
    ROOT,
    board,
    database_url,
    django_setup,
    percentile,
    recreate_database,
)

DISBURSED = date(2026, 1, 1)
BUSINESS_DATE = date(2026, 1, 20)
PAYMENT = {"amount": "1.00", "method": "ach", "reference": "bench"}


def seed(*, loans: int, borrowers: int, agents: int) -> list[tuple[int, str]]:
    """Board `loans` loans over `borrowers` borrowers; returns (loan id, token) pairs, each
    token a servicing agent's (`agents` of them, round-robin)."""
    from lendcore.accounts.roles import Role
    from lendcore.accounts.services import (
        api_token_issue,
        borrower_sign_up,
        staff_user_create,
    )
    from servicing.services import accrue_interest, business_date_set

    business_date_set(business_date=DISBURSED, acting_user=None)
    people = []
    for n in range(borrowers):
        borrower = borrower_sign_up(
            email=f"bench{n}@example.com",
            password="bench-pass-123",
            first_name="B",
            last_name=f"{n}",
        )
        people.append(borrower)
    tokens = [
        api_token_issue(
            user=staff_user_create(
                username=f"bench-agent-{n}",
                password="bench-pass-123",
                role=Role.SERVICING_AGENT,
            )
        ).key
        for n in range(agents)
    ]
    pairs = []
    for n in range(loans):
        borrower, token = people[n % borrowers], tokens[n % agents]
        loan = board(
            borrower=borrower,
            ref=f"BENCH-{n}",
            principal="5000.00",
            n_periods=36,
            disbursed_on=DISBURSED,
        )
        pairs.append((loan.pk, token))
    business_date_set(business_date=BUSINESS_DATE, acting_user=None)
    accrue_interest([pk for pk, _ in pairs], BUSINESS_DATE)
    return pairs


def cpu_seconds(*, session: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn processes (session `session`), the PostgreSQL
    backends connected to `database`, and this process (the load client). Linux /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"gunicorn": 0.0, "postgres": 0.0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[3]) == session:  # the process group of gunicorn's own session
            used["gunicorn"] += seconds
        elif command.startswith("postgres: ") and f" {database} " in command:
            used["postgres"] += seconds
    usage = os.times()
    used["client"] = usage.user + usage.system
    return used


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, threads: int = 1) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lendcore.settings.production",
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "false",
        # plain HTTP on loopback: in production a TLS proxy stands in front
        "DJANGO_SSL_REDIRECT": "false",
        # a throw-away Fernet key (production requires one; the bench stores no SSNs)
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(
            b"lendcore-bench-only-key-32bytes!"
        ).decode(),
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:No directory at",
    }
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn if gunicorn.exists() else "gunicorn"),
        "lendcore.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if threads > 1:  # gthread: keep-alive connections, threads overlap database waits
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def wait_ready(port: int, token: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request(
                "GET", "/api/v1/business-date/", headers={"Authorization": f"Token {token}"}
            )
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not answer in time")


def load(
    *,
    port: int,
    pairs: list[tuple[int, str]],
    threads: int,
    seconds: float,
    max_requests: int,
    baseline: bool = False,
) -> tuple[list[float], Counter, float, list[int]]:
    """Post payments until `seconds` pass or `max_requests` are sent. Returns the latencies
    (ms) of the 201s, the status counts, the elapsed seconds and the created payment ids."""
    counter = itertools.count()
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    created: list[int] = []
    body = json.dumps(PAYMENT)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_status, my_ids = [], Counter(), []
        while time.monotonic() < stop_at:
            n = next(counter)
            if n >= max_requests:
                break
            loan_id, token = pairs[n % len(pairs)]
            headers = {
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            start = time.perf_counter()
            try:
                if baseline:  # the framework's floor: token auth + one tiny read
                    conn.request("GET", "/api/v1/business-date/", headers=headers)
                else:
                    conn.request("POST", f"/api/v1/loans/{loan_id}/payments/", body, headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                my_status["error"] += 1
                continue
            elapsed = (time.perf_counter() - start) * 1000
            my_status[response.status] += 1
            if response.status == 201:
                mine.append(elapsed)
                my_ids.append(json.loads(payload)["id"])
            elif baseline and response.status == 200:
                mine.append(elapsed)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(my_status)
            created.extend(my_ids)

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in range(threads):
            pool.submit(worker)
    return latencies, statuses, time.monotonic() - began, created


def profile(pairs: list[tuple[int, str]], count: int = 200) -> None:
    """cProfile of `count` payments through the Django test client, with query counts."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    client = Client()
    queries = []
    profiler = cProfile.Profile()
    for n in range(count):
        loan_id, token = pairs[n % len(pairs)]
        with CaptureQueriesContext(connection) as captured:
            profiler.enable()
            response = client.post(
                f"/api/v1/loans/{loan_id}/payments/",
                PAYMENT,
                content_type="application/json",
                headers={"Authorization": f"Token {token}", "Idempotency-Key": str(uuid.uuid4())},
            )
            profiler.disable()
        assert response.status_code == 201, response.content
        queries.append(len(captured))
    queries.sort()
    print(
        f"\nprofile: {count} payments in-process; SQL queries per payment "
        f"median {queries[len(queries) // 2]} max {queries[-1]}"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(r"(servicing|lendcore)/", 25)
    stats.sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=400)
    parser.add_argument("--borrowers", type=int, default=100)
    parser.add_argument(
        "--workers", type=int, default=3, help="gunicorn workers (the deployment's 3; 2-4)"
    )
    parser.add_argument("--threads", type=int, default=16, help="client threads")
    parser.add_argument(
        "--worker-threads", type=int, default=1, help="gunicorn threads per worker (>1: gthread)"
    )
    parser.add_argument("--agents", type=int, default=16, help="servicing agents posting")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="measured run (floor and payments each)"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns the floor and the payments take"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--max-requests", type=int, default=30000)
    parser.add_argument("--database", default="lendcore_bench")
    parser.add_argument("--profile", action="store_true", help="then cProfile 200 payments")
    args = parser.parse_args()
    if not 1 <= args.workers <= 8:
        sys.exit("--workers: 1 to 8")

    url = database_url(args.database)
    recreate_database(url)
    django_setup(url)
    began = time.monotonic()
    pairs = seed(loans=args.loans, borrowers=args.borrowers, agents=args.agents)
    print(
        f"seeded {len(pairs)} loans for {args.borrowers} borrowers through loan_board "
        f"in {time.monotonic() - began:.1f} s (database {args.database})"
    )
    from django.db import connections

    connections.close_all()

    port = free_port()
    server = start_gunicorn(url, port, args.workers, args.worker_threads)
    try:
        wait_ready(port, pairs[0][1])
        load(port=port, pairs=pairs, threads=args.threads, seconds=args.warmup, max_requests=10**9)
        # The floor, same server and client: an authenticated GET of the business date. The
        # floor and the payments take turns, `--rounds` times each, so a drift in the
        # machine's speed during the run weighs on both alike.
        base: list[float] = []
        base_elapsed = elapsed = 0.0
        latencies, created = [], []
        statuses: Counter = Counter()
        spent_cpu = {"gunicorn": 0.0, "postgres": 0.0, "client": 0.0}
        load_before = os.getloadavg()[0]
        for _ in range(args.rounds):
            got, _, took, _ = load(
                port=port,
                pairs=pairs,
                threads=args.threads,
                seconds=args.seconds / args.rounds,
                max_requests=10**9,
                baseline=True,
            )
            base += got
            base_elapsed += took
            cpu_before = cpu_seconds(session=server.pid, database=args.database)
            got, counts, took, ids = load(
                port=port,
                pairs=pairs,
                threads=args.threads,
                seconds=args.seconds / args.rounds,
                max_requests=max(0, args.max_requests - len(created)),
            )
            cpu_after = cpu_seconds(session=server.pid, database=args.database)
            for k in spent_cpu:
                spent_cpu[k] += cpu_after[k] - cpu_before[k]
            latencies += got
            statuses.update(counts)
            elapsed += took
            created += ids
        base.sort()
        floor_rate = len(base) / base_elapsed if base_elapsed else 0.0
        print(
            f"floor GET /api/v1/business-date/: {floor_rate:.1f} req/s, "
            f"p50 {percentile(base, 50):.1f} ms, p99 {percentile(base, 99):.1f} ms"
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    from servicing.ledger import ledger_problems
    from servicing.models import Payment

    posted = Payment.objects.filter(pk__in=created).count()
    problems = ledger_problems()
    latencies.sort()
    ok = len(latencies)
    rate = ok / elapsed if elapsed else 0.0
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(
        f"gunicorn {args.workers} "
        + (
            f"gthread workers x {args.worker_threads} threads"
            if args.worker_threads > 1
            else "sync workers"
        )
        + f", {args.threads} client threads, "
        f"{len(pairs)} loans, {elapsed:.1f} s measured in {args.rounds} rounds; "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} before the run "
        "(other work on the machine skews the figures)"
    )
    print(
        f"  responses: {dict(sorted(statuses.items(), key=str))}; "
        f"201s stored exactly once: {posted == ok == len(set(created))}"
    )
    print(f"  ledger_check: {'ok' if not problems else f'{len(problems)} problems'}")
    if ok:
        spent = {k: v * 1000 / ok for k, v in spent_cpu.items()}
        print(
            "  CPU per payment: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in spent.items())
            + f" (sum {sum(spent.values()):.1f} ms; {os.cpu_count()} CPUs give "
            f"{os.cpu_count() * elapsed * 1000 / ok:.1f} ms per payment at this rate)"
        )
    print(
        f"  throughput {rate:.1f} payments/s; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies[-1] if latencies else float('nan'):.1f} ms"
    )
    print(
        "  goal: >= 0.25 of the floor's rate with p99 <= 150 ms -> "
        + ("met" if floor_rate and rate / floor_rate >= 0.25 and p99 <= 150 else "NOT met")
    )
    ratio = rate / floor_rate if floor_rate else 0.0
    print(
        f"BENCH payments_api payments_per_s={rate:.1f} floor_get_per_s={floor_rate:.1f} "
        f"ratio={ratio:.3f} p50_ms={p50:.1f} p99_ms={p99:.1f}"
    )
    if args.profile:
        profile(pairs)


if __name__ == "__main__":
    main()
