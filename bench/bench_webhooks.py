"""Benchmark: webhook delivery throughput to a receiver on loopback (goal: ≥ 300 events/s).

Writes N `payment.posted` events over L loans to the outbox (one subscription), starts a
threaded HTTP receiver (its own process) on 127.0.0.1 that answers 200, then runs the delivery loop
(`lendcore.webhooks.services.webhooks_deliver`, as the Celery task does) until every
delivery succeeded. Order per loan holds throughout (one delivery in flight per loan).

The floor, measured in the same run against the same receiver: the same bodies POSTed plainly
(no database, no signing) from this process by WEBHOOK_CONCURRENCY threads, each on one
kept-alive connection. `ratio=` is events_per_s / floor_events_per_s.

Database: DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/lendcore_bench_webhooks,
migrated here), else SQLite in memory. Run: `python bench/bench_webhooks.py [events] [loans]`.
Prints `BENCH webhooks events=… loans=… events_per_s=… floor_events_per_s=… ratio=…`.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lendcore.settings.test")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")


def database_ensure(url: str) -> None:
    """Create the benchmark database when it does not exist (PostgreSQL only)."""
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(parts._replace(path="/postgres").geturl())
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'create database "{name}"')
    finally:
        conn.close()


if os.environ["DATABASE_URL"].startswith("postgres"):
    database_ensure(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from lendcore.webhooks.models import Event, WebhookDelivery, WebhookSubscription  # noqa: E402
from lendcore.webhooks.outbox import events_emit_many  # noqa: E402
from lendcore.webhooks.services import body_of, secret_generate, webhooks_deliver  # noqa: E402


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any production receiver
    disable_nagle_algorithm = True  # the answer goes in two writes: no delayed-ACK stall

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def _serve(ready) -> None:
    ThreadingHTTPServer.request_queue_size = 128  # a listen backlog of 5 resets connections
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    ready.put(server.server_address[:2])
    server.serve_forever()


def _floor(host: str, port: int, bodies: list[bytes]) -> float:
    """Plain POSTs per second of `bodies` to the receiver: WEBHOOK_CONCURRENCY threads, each
    on one kept-alive connection."""
    threads = settings.WEBHOOK_CONCURRENCY
    headers = {"content-type": "application/json"}

    def run(part: list[bytes]) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        for body in part:
            connection.request("POST", "/h", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run, [bodies[i::threads] for i in range(threads)]))
    return len(bodies) / (time.perf_counter() - started)


def main(events: int = 3000, loans: int = 500) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    WebhookDelivery.objects.all().delete()
    Event.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    # the receiver in its own process (as a real one would be: not sharing our GIL)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(ready,), daemon=True)
    receiver.start()
    host, port = ready.get(timeout=30)
    from lendcore.core.crypto import encrypt

    WebhookSubscription.objects.create(
        url=f"http://{host}:{port}/h",
        event_types=["payment.posted"],
        secret_encrypted=encrypt(secret_generate()),
    )
    with transaction.atomic():
        events_emit_many(
            ("payment.posted", 1 + i % loans, {"loan_id": 1 + i % loans, "n": i})
            for i in range(events)
        )
    bodies = [body_of(event) for event in Event.objects.order_by("id")]
    floor = _floor(host, port, bodies)
    started = time.perf_counter()
    done = 0
    while done < events:
        webhooks_deliver(seconds=600)
        done = WebhookDelivery.objects.filter(status="succeeded").count()
        if time.perf_counter() - started > 600:
            break
    seconds = time.perf_counter() - started
    rate = done / seconds
    print(f"{done} of {events} events delivered over {loans} loans in {seconds:.1f} s")
    print(
        f"BENCH webhooks events={done} loans={loans} events_per_s={rate:.0f} "
        f"floor_events_per_s={floor:.0f} ratio={rate / floor:.2f}"
    )
    receiver.terminate()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
