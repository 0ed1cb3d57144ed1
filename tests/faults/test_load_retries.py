"""Load with client timeouts and retries: 64 client threads post payments over many loans
against gunicorn on loopback and PostgreSQL, each with a short random read timeout; a
timed-out request is retried with the same Idempotency-Key until it is answered, and some
payments are reversed (also retried with their key). Afterwards every accepted payment is
stored exactly once, the accepted amounts equal the cash account's movement and the loans'
posted payments, and the ledger check passes. Bounded: LENDCORE_LOAD_SECONDS (20 s).

`make test-load` runs it alone; it prints the counts (requests, timeouts, retries, replays,
stored, reversed)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F, Sum

from lendcore.accounts.roles import Role
from lendcore.accounts.services import api_token_issue, staff_user_create
from servicing.models import Account, JournalLine, Loan, Payment
from servicing.services import accrue_interest
from tests.servicing.factories import board_loan

from .conftest import assert_ledger_sound

pytestmark = [pytest.mark.postgres, pytest.mark.load, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("LENDCORE_LOAD_SECONDS", "20"))
THREADS = 64
LOANS = 120
AGENTS = 8  # servicing agents, each with an API token (the rate limit is per token)
WORKERS = 3  # gunicorn sync workers, as deployed
# A share of the requests wait only briefly for their answer (a client with a short read
# timeout, a flaky network) and are retried; the others wait as a patient client does.
SHORT_SHARE = 0.3
SHORT_TIMEOUTS = (0.02, 0.3)  # seconds, uniform
PATIENT_TIMEOUT = 10.0
SETTLE_TIMEOUT = 30.0  # past the deadline a thread waits this long for its last answer
REVERSE_SHARE = 0.05  # of a thread's turns: reverse one of its accepted payments
DISBURSED = date(2026, 1, 1)
BUSINESS_DATE = date(2026, 1, 20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _gunicorn(port: int, log: Path) -> subprocess.Popen:
    """gunicorn on the test database with the production settings, tasks in-process (the
    load is on the payment path, not on a broker), plain HTTP on loopback."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lendcore.settings.production",
        "DJANGO_SECRET_KEY": "load-test",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SSL_REDIRECT": "false",
        # a throw-away key: production requires one, and the payment path decrypts nothing
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(
            b"lendcore-load-test-key-32bytes!!"
        ).decode(),
        "DATABASE_URL": _database_url(),
        "DATABASE_REPLICA_URL": "",
        "CELERY_BROKER_URL": "",
        "CACHE_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:No directory at",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "lendcore.wsgi:application",
        *("--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)),
        *("--log-level", "warning", "--timeout", "60"),
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_ready(server: subprocess.Popen, port: int, token: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "GET", "/api/v1/business-date/", headers={"Authorization": f"Token {token}"}
            )
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer in time:\n{log.read_text()[-3000:]}")


@dataclass
class Tally:
    """What the clients saw, summed over the threads."""

    counts: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    accepted: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # key: (id, amount)
    reversed_ids: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One client thread's connection: a request that times out is sent again, with the
    same key and body, on a new connection, until it is answered."""

    def __init__(self, port: int, token: str, tally: Tally, stop_at: float) -> None:
        self.port, self.token, self.tally, self.stop_at = port, token, tally, stop_at
        self.conn: http.client.HTTPConnection | None = None
        self.counts: Counter = Counter()
        self.statuses: Counter = Counter()

    def _send(self, path: str, body: dict, key: str, timeout: float):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        self.conn.timeout = timeout
        if self.conn.sock is not None:
            self.conn.sock.settimeout(timeout)
        headers = {
            "Authorization": f"Token {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        self.conn.request("POST", path, json.dumps(body), headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, response.getheader("Idempotent-Replayed") == "true", payload

    def post_until_answered(self, path: str, body: dict) -> tuple[int, dict]:
        key = str(uuid.uuid4())
        attempt = 0
        while True:
            if attempt:
                self.counts["retries"] += 1
            attempt += 1
            past_deadline = time.monotonic() >= self.stop_at
            if past_deadline:
                timeout = SETTLE_TIMEOUT
            elif random.random() < SHORT_SHARE:
                timeout = random.uniform(*SHORT_TIMEOUTS)
            else:
                timeout = PATIENT_TIMEOUT
            self.counts["requests"] += 1
            try:
                status, replayed, payload = self._send(path, body, key, timeout)
            except (TimeoutError, OSError, http.client.HTTPException) as error:
                self.counts["timeouts" if isinstance(error, TimeoutError) else "errors"] += 1
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                continue
            self.statuses[status] += 1
            self.counts["replays"] += replayed
            answer = json.loads(payload) if payload else {}
            if status == 409 and str(answer.get("code", "")).startswith("idempotency_"):
                continue  # the first try is still running, or failed: ask again
            return status, answer


def _client_thread(client: Client, loans: list[int]) -> None:
    """Post payments (and reverse some) until the deadline; every key ends answered."""
    mine: list[tuple[str, int, Decimal]] = []
    accepted: dict[str, tuple[int, Decimal]] = {}
    reversed_ids: set[int] = set()
    try:
        while time.monotonic() < client.stop_at:
            if mine and random.random() < REVERSE_SHARE:
                _, payment_id, _ = mine.pop(random.randrange(len(mine)))
                status, answer = client.post_until_answered(
                    f"/api/v1/payments/{payment_id}/reverse/", {"reason": "load test return"}
                )
                assert status == 200, (status, answer)
                assert answer["status"] == "reversed"
                reversed_ids.add(payment_id)
                continue
            amount = Decimal(random.randint(100, 2000)) / 100
            loan_id = random.choice(loans)
            reference = f"load-{uuid.uuid4().hex[:12]}"
            body = {"amount": str(amount), "method": "ach", "reference": reference}
            status, answer = client.post_until_answered(f"/api/v1/loans/{loan_id}/payments/", body)
            assert status == 201, (status, answer)
            assert Decimal(answer["amount"]) == amount
            accepted[reference] = (answer["id"], amount)
            mine.append((reference, answer["id"], amount))
    finally:
        if client.conn is not None:
            client.conn.close()
        with client.tally.lock:
            client.tally.counts.update(client.counts)
            client.tally.statuses.update(client.statuses)
            client.tally.accepted.update(accepted)
            client.tally.reversed_ids.update(reversed_ids)


def _cash() -> Decimal:
    cash = JournalLine.objects.filter(account=Account.CASH)
    sums = cash.aggregate(d=Sum("debit"), c=Sum("credit"))
    return (sums["d"] or Decimal("0")) - (sums["c"] or Decimal("0"))


def test_payments_under_load_with_timeouts_and_retries_are_stored_exactly_once(
    borrower, business_date, tmp_path, record_property
):
    # Given many loans accrued to the business date, and servicing agents with tokens
    began = time.monotonic()
    business_date(DISBURSED)
    loans = [
        board_loan(
            borrower=borrower,
            application_ref=f"LOAD-{n}",
            principal="5000.00",
            n_periods=36,
            disbursed_on=DISBURSED,
        ).pk
        for n in range(LOANS)
    ]
    business_date(BUSINESS_DATE)
    accrue_interest(loans, BUSINESS_DATE)
    tokens = [
        api_token_issue(
            user=staff_user_create(
                username=f"load-agent-{n}", password="load-pass-123", role=Role.SERVICING_AGENT
            )
        ).key
        for n in range(AGENTS)
    ]
    cash_before = _cash()
    principal_before = Loan.objects.aggregate(p=Sum("principal_balance"))["p"]
    connection.close()  # gunicorn's workers and this process share nothing but the database

    # When 64 clients post and reverse payments for a bounded time, timing out and retrying
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    seeded = time.monotonic() - began
    server = _gunicorn(port, log)
    tally = Tally()
    try:
        _wait_ready(server, port, tokens[0], log)
        stop_at = time.monotonic() + SECONDS
        threads = [
            threading.Thread(
                target=_client_thread,
                args=(Client(port, tokens[n % AGENTS], tally, stop_at), loans),
            )
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, stop_at - time.monotonic()) + 4 * SETTLE_TIMEOUT)
        ran = time.monotonic() - stop_at + SECONDS
        assert not any(thread.is_alive() for thread in threads), "a client never got its answer"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    # Then every payment a client was told was accepted is stored once, and nothing else
    stored = Payment.objects.filter(loan_id__in=loans)
    ids = {payment_id for payment_id, _ in tally.accepted.values()}
    assert len(ids) == len(tally.accepted), "two keys were answered with one payment"
    assert set(stored.values_list("pk", flat=True)) == ids
    references = list(stored.values_list("reference", flat=True))
    assert len(references) == len(set(references)), "a payment was stored twice"
    assert set(references) == set(tally.accepted)
    # the reversed ones are reversed, the rest posted
    assert set(stored.filter(status=Payment.Status.REVERSED).values_list("pk", flat=True)) == set(
        tally.reversed_ids
    )
    # accepted minus reversed == the cash account's movement == the loans' posted payments
    kept = [amount for pk, amount in tally.accepted.values() if pk not in tally.reversed_ids]
    accepted = sum(kept, Decimal("0.00"))
    posted = stored.filter(status=Payment.Status.POSTED)
    assert _cash() - cash_before == accepted
    assert posted.aggregate(s=Sum("amount"))["s"] == accepted
    allocated = posted.aggregate(
        s=Sum(F("alloc_fees") + F("alloc_interest") + F("alloc_principal") + F("alloc_excess"))
    )["s"]
    assert allocated == accepted
    principal_paid = principal_before - Loan.objects.aggregate(p=Sum("principal_balance"))["p"]
    assert principal_paid == posted.aggregate(s=Sum(F("alloc_principal") + F("alloc_excess")))["s"]
    assert_ledger_sound()
    # no request failed on the server's side
    assert not [status for status in tally.statuses if status >= 500], tally.statuses
    counts = tally.counts
    line = (
        f"LOAD {SECONDS:.0f} s ({ran:.1f} s with the last answers; seeding {seeded:.1f} s), "
        f"{THREADS} clients, {LOANS} loans, gunicorn {WORKERS} workers: "
        f"requests={counts['requests']} timeouts={counts['timeouts']} "
        f"retries={counts['retries']} replays={counts['replays']} "
        f"connection_errors={counts['errors']} stored={stored.count()} "
        f"reversed={len(tally.reversed_ids)} accepted_amount={accepted} "
        f"responses={dict(sorted(tally.statuses.items()))}"
    )
    print("\n" + line)
    record_property("load_counts", line)  # .ci/run prints it from the JUnit report
    # the load did what it is for: timeouts happened and their retries were answered
    assert counts["timeouts"] > 0
    assert counts["retries"] >= counts["timeouts"]
    assert stored.count() > THREADS
