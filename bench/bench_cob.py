"""Close of business at scale: seed N active loans into PostgreSQL, time one full COB on real
Celery workers (one worker, two processes unless COB_BENCH_PROCESSES says), print figures.

    make bench-cob N=100000            # or N=100000,1000000 to see how it grows
    BENCH_PG=postgres://postgres@127.0.0.1:5432  COB_BENCH_REDIS=redis://127.0.0.1:6379/7

Creates (and drops first) the database lendcore_bench_cob, migrates it, seeds with
INSERT ... SELECT generate_series (loans, schedule versions, 12 installments each; 10 %
delinquent with their past late fees already charged but for the last 12 days', which COB
charges; 3 % on autopay; a tenth on the `scheduled` interest model),
then runs COB for 2026-06-15 (night 1: the book's first close, every late loan's DPD computed and
its collections case opened) and for 2026-06-16 (night 2: an ordinary night; COB_BENCH_NIGHTS=1
skips it) and prints, for each, the total, each step's summed seconds (over both processes) and
loans per second. It measures the raw-SQL floor of one night for N loans on the same server
(`bench/cob_floor.sh`: three plain statements over a bare table, in a scratch database)
COB_BENCH_FLOOR_RUNS times (default 6), half before the nights and half after, and takes the
median; it ends with
`BENCH cob loans=<N> seconds=<total> floor_seconds=<floor> ratio=<total/floor> loans_per_s=<rate>
... floor_spread=<slowest floor run / fastest>` (a spread well above 1: the machine was busy)
and `BENCH cob_collections loans=<N> summed_seconds=<collections steps, summed over partitions>
wall_seconds=<that / processes> share=<of the night> collections_close=.. dunning_queue=..`
(COB_EXTRA_STEPS; issue 11's budget: the collections steps add <= 3 s at N=1,000,000).
Machines differ by up to 2x; the ratio to a floor measured in the same run does not.

COB_BENCH_KEEP=1 keeps the last run's database (lendcore_bench_cob) after the nights, to EXPLAIN
its statements. COB_BENCH_STATEMENTS=N prints, after each night, its N costliest statements by
the server's own execution time (pg_stat_statements, which the server must preload): the
summed step seconds are wall time in the worker processes, waiting for a core included.

A/B runs: COB_BENCH_TEMPLATE=1 seeds `<db>_tmpl_<N>` once (kept) and copies it for each run
(CREATE DATABASE ... TEMPLATE, seconds instead of a reseed), so runs of two commits can
alternate over the same data; drop the template when done (COB_BENCH_TEMPLATE=drop).

Scaling past one process: COB_BENCH_PROCESSES=1,2 runs COB once per count (one worker with
that many prefork processes) on copies of one seeded template (the data is identical; a
template made for the purpose is dropped at the end unless COB_BENCH_TEMPLATE was set), prints
each run's BENCH line (with `processes=`) and then
`BENCH cob_scaling loans=<N> seconds_1=<..> seconds_2=<..> speedup=<seconds_1/seconds_2>`.
The floor is measured once per N and shared by the runs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import _pg_statements as pg_statements  # bench/, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("COB_BENCH_DB", "lendcore_bench_cob")
TEMPLATE = os.environ.get("COB_BENCH_TEMPLATE", "")
REDIS = os.environ.get("COB_BENCH_REDIS", "redis://127.0.0.1:6379/7")
PARTITION = int(os.environ.get("COB_BENCH_PARTITION", "10000"))
PROCESSES = [int(x) for x in os.environ.get("COB_BENCH_PROCESSES", "2").split(",") if x.strip()]
# Night 1 is the seeded book's first close (servicing computes every late loan's DPD and bucket
# and collections opens a case for each: the night a lender switches LendCore on); night 2,
# the next business date, is an ordinary night (cases exist and follow their loans).
NIGHTS = int(os.environ.get("COB_BENCH_NIGHTS", "2"))
# Keep the database of the last run after the nights, to profile its statements.
KEEP = os.environ.get("COB_BENCH_KEEP") == "1"
# The night's N costliest statements by the server's own time (bench/_pg_statements.py).
STATEMENTS = int(os.environ.get("COB_BENCH_STATEMENTS", "0"))
# Several process counts compare runs over the same data: copies of one seeded template.
OWN_TEMPLATE = len(PROCESSES) > 1 and not TEMPLATE
if OWN_TEMPLATE:
    TEMPLATE = "1"
DAY = "2026-06-15"
QUEUE = os.environ.get("COB_QUEUE") or f"cobbench-{uuid.uuid4().hex[:6]}"

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "lendcore.settings.local",
    "DATABASE_URL": f"{PG}/{DB}",
    "CELERY_BROKER_URL": REDIS,
    "CELERY_RESULT_BACKEND": REDIS,
    "COB_QUEUE": QUEUE,
    "DB_CONN_MAX_AGE": "600",
    "LOG_LEVEL": "WARNING",
}


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(
        ["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        stdout=subprocess.DEVNULL,
    )


SEED_SQL = """
INSERT INTO accounts_borrower (first_name, last_name, email, phone, email_opt_out, sms_opt_out,
                               created_at)
SELECT 'B' || g, 'Bench', 'b' || g || '@example.com', '', false, false, now()
  FROM generate_series(1, 1000) g;

CREATE TEMP TABLE seed AS
SELECT g AS id,
       (g % 28) AS off,
       (date '2026-01-01' + (g % 28)) AS disbursed,
       (g % 10 = 0) AS late,
       (g % 10 = 5) AS sched,
       (g % 33 = 7) AS autopay
  FROM generate_series(1, %(n)s) g;

INSERT INTO servicing_loan (id, loan_number, application_ref, borrower_id, status, product_code,
    product_name, product_version, currency, principal_amount, annual_rate, annual_rate_pct,
    n_periods, frequency, day_count, amortization, interest_method, first_due_date,
    maturity_date, terms, interest_model, origination_fee, origination_fee_kind, late_fee_kind,
    late_fee_amount, late_fee_grace_days, nsf_fee, allocation_order, prepayment_option,
    disbursed_on, disbursement_method, disbursement_reference, delinquent, in_hardship,
    non_accrual, principal_balance, interest_balance, fees_balance, credit_balance,
    accrued_interest_exact, accrued_interest_posted, last_accrual_date, last_closed_on,
    oldest_unpaid_due_date, dpd, delinquency_bucket, created_at, updated_at)
SELECT s.id, 'LN-' || lpad(s.id::text, 8, '0'), 'BENCH-' || s.id, 1 + s.id % 1000, 'active',
       'PERSONAL', 'Personal', 1, 'USD', 12000.00, 0.1200000000, 12.0000, 12, 'monthly',
       CASE WHEN s.id % 3 = 0 THEN 'ACT/360' ELSE 'ACT/365F' END, 'level', 'declining',
       (s.disbursed + interval '1 month')::date, (s.disbursed + interval '12 months')::date,
       '{}'::jsonb, CASE WHEN s.sched THEN 'scheduled' ELSE 'daily_simple' END, 0, 'prepaid',
       'flat', 15.0000, 10, 25.00, '["fees", "interest", "principal"]'::jsonb, 'reduce_term',
       s.disbursed, 'ach', '', false, false, false,
       CASE WHEN s.late THEN 12000.00 ELSE 8000.00 END, 0, 0, 0, 0, 0,
       date '2026-06-14', date '2026-06-14', NULL, 0, 'current', now(), now()
  FROM seed s;

INSERT INTO servicing_scheduleversion (id, loan_id, version, is_current, reason, effective_date,
                                       regular_payment, created_at)
SELECT s.id, s.id, 1, true, 'boarding', s.disbursed, 1066.19, now() FROM seed s;

INSERT INTO servicing_installment (schedule_id, loan_id, number, due_date, principal_due,
    interest_due, fee_due, principal_paid, interest_paid, fee_paid, cancelled, principal_true_up,
    interest_true_up, status, paid_on)
SELECT s.id, s.id, k, (s.disbursed + make_interval(months => k))::date, 1000.00, 100.00, 0,
       CASE WHEN paid THEN 1000.00 ELSE 0 END, CASE WHEN paid THEN 100.00 ELSE 0 END, 0, 0, 0, 0,
       CASE WHEN paid THEN 'paid'
            WHEN (s.disbursed + make_interval(months => k))::date < date '2026-06-15'
                 THEN 'overdue' ELSE 'upcoming' END,
       CASE WHEN paid THEN (s.disbursed + make_interval(months => k))::date END
  FROM seed s
 CROSS JOIN generate_series(1, 12) k
 CROSS JOIN LATERAL (SELECT NOT s.late
        AND (s.disbursed + make_interval(months => k))::date < date '2026-06-15' AS paid) p;

UPDATE servicing_loan l SET oldest_unpaid_due_date = (s.disbursed + interval '1 month')::date
  FROM seed s WHERE s.id = l.id AND s.late;
UPDATE servicing_loan l SET oldest_unpaid_due_date = x.d
  FROM (SELECT loan_id, MIN(due_date) d FROM servicing_installment WHERE status <> 'paid'
         GROUP BY loan_id) x, seed s
 WHERE l.id = x.loan_id AND s.id = l.id AND NOT s.late;

-- the delinquent loans' past late fees, with their entries, but for the installments due in
-- the last 12 days: COB charges those past their 10 grace days (due 2026-06-03)
CREATE TEMP TABLE past_fee AS
SELECT i.id AS inst, i.loan_id, row_number() OVER () AS rn
  FROM servicing_installment i JOIN seed s ON s.id = i.loan_id AND s.late
 WHERE i.due_date < date '2026-06-15' - 12;
INSERT INTO servicing_journalentry (id, business_date, effective_date, entry_type, loan_id,
                                    reference, memo, created_at)
SELECT 1000000000 + p.rn, date '2026-06-01', date '2026-06-01', 'fee', p.loan_id, '',
       'late fee (seed)', now() FROM past_fee p;
INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
SELECT 1000000000 + p.rn, p.loan_id, a.account, a.dr, a.cr FROM past_fee p
 CROSS JOIN (VALUES ('1120', 15.00, 0), ('4200', 0, 15.00)) a(account, dr, cr);
INSERT INTO servicing_fee (loan_id, kind, amount, paid_amount, waived_amount, reversed_amount,
                           assessed_on, installment_id, reason, entry_id, created_at)
SELECT p.loan_id, 'late', 15.00, 0, 0, 0, date '2026-06-01', p.inst, 'seed',
       1000000000 + p.rn, now() FROM past_fee p;
UPDATE servicing_loan l SET fees_balance = x.n * 15.00
  FROM (SELECT loan_id, COUNT(*) n FROM past_fee GROUP BY loan_id) x WHERE l.id = x.loan_id;

INSERT INTO servicing_autopayenrolment (loan_id, account_encrypted, routing_number_encrypted,
                                        account_last4, active, created_at)
SELECT s.id, %(token)s, %(routing)s, '6789', true, now() FROM seed s WHERE s.autopay;

SELECT setval(pg_get_serial_sequence('servicing_loan', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('servicing_scheduleversion', 'id'), %(n)s);
INSERT INTO servicing_businessdate (id, business_date, updated_at) VALUES (1, %(day)s, now())
    ON CONFLICT (id) DO UPDATE SET business_date = EXCLUDED.business_date;
"""


def seed(n: int) -> float:
    import django

    django.setup()
    from django.db import connection, transaction

    from servicing.cob.crypto import encrypt

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = SEED_SQL.replace("%(n)s", str(int(n))).replace("%(day)s", f"'{DAY}'")
        sql = sql.replace("%(token)s", "'" + encrypt("123456789").replace("'", "") + "'")
        sql = sql.replace("%(routing)s", "'" + encrypt("021000021").replace("'", "") + "'")
        for statement in sql.split(";\n"):
            if statement.strip():
                cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def migrate_and_seed(n: int, db: str) -> None:
    env = {**ENV, "DATABASE_URL": f"{PG}/{db}"}
    psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql(f"CREATE DATABASE {db}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    out = subprocess.run(
        [sys.executable, __file__, "--seed", str(n)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(out.stdout.strip(), flush=True)


def database_exists(db: str) -> bool:
    out = subprocess.run(
        [
            "psql",
            f"{PG}/postgres",
            "-qAtX",
            "-c",
            f"SELECT 1 FROM pg_database WHERE datname = '{db}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() == "1"


def run_one(n: int, processes: int = 2, floor: dict[str, float] | None = None) -> dict:
    if TEMPLATE:
        # A seeded copy kept between runs (same data for A and B; the seed is not timed).
        template = f"{DB}_tmpl_{n}"
        if not database_exists(template):
            migrate_and_seed(n, template)
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        psql(f"CREATE DATABASE {DB} TEMPLATE {template}")
        print(f"copied the seeded {n:,} loans from {template}", flush=True)
        # a template seeded at an older commit gets this commit's later migrations (indexes,
        # storage settings), so A/B runs of a schema change can share one seed
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env={**ENV, "DATABASE_URL": f"{PG}/{DB}"},
            check=True,
        )
    else:
        migrate_and_seed(n, DB)
    measure_floor = floor is None and NIGHTS > 0  # nothing to compare a seed-only run with
    floor_before = cob_floor_runs(n, FLOOR_RUNS // 2) if measure_floor else []
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "lendcore",
            "worker",
            "--pool=prefork",
            "-c",
            str(processes),
            "-Q",
            QUEUE,
            "-n",
            f"{QUEUE}@localhost",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    backends = BackendCpu()
    try:
        backends.start()
        out = subprocess.run(
            [sys.executable, __file__, "--run", str(n)],
            cwd=ROOT,
            env={**ENV, "COB_BENCH_RUN_PROCESSES": str(processes)},
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise SystemExit(f"the timed run failed:\n{out.stdout}\n{out.stderr[-3000:]}")
        cpu = (pool_cpu_seconds(worker.pid), backends.stop())
        waits = ", ".join(
            f"{key} {count}" for key, count in sorted(backends.waits.items(), key=lambda kv: -kv[1])
        )
    finally:
        backends.stop()
        worker.terminate()
        worker.wait(timeout=30)
    lines = out.stdout.strip().splitlines()
    print("\n".join(line for line in lines if not line.startswith("RESULT")), flush=True)
    results = [
        dict(part.split("=") for part in line.split()[2:])
        for line in lines
        if line.startswith("RESULT")
    ]
    if measure_floor:
        floor = floor_summary(floor_before, cob_floor_runs(n, FLOOR_RUNS - len(floor_before)))
    print(
        f"CPU: {cpu[0]:.2f} s in the worker's {processes} process(es), {cpu[1]:.2f} s in the "
        f"database's PostgreSQL backends (the run's start and wait included, {len(results)} "
        "night(s))",
        flush=True,
    )
    print(f"active backends sampled every 0.1 s, by wait: {waits}", flush=True)
    for result in results:
        _bench_lines(result, floor, processes)
    if not results:  # COB_BENCH_NIGHTS=0: seeded (a template, say), nothing timed
        return {}
    assert floor is not None
    return {**results[0], **floor}


TICKS = os.sysconf("SC_CLK_TCK")


def _bench_lines(result: dict, floor: dict[str, float], processes: int) -> None:
    """The night's `BENCH cob` and `BENCH cob_collections` lines (`night=` says which)."""
    seconds, floor_seconds = float(result["seconds"]), floor["floor_seconds"]
    print(
        f"BENCH cob loans={result['loans']} seconds={seconds:.2f} floor_seconds="
        f"{floor_seconds:.2f} ratio={seconds / floor_seconds:.2f} loans_per_s="
        f"{result['loans_per_s']} processes={processes} night={result['night']} "
        f"floor_spread={floor['floor_spread']:.2f}",
        flush=True,
    )
    # The collections steps' share of the night: their seconds summed over the partitions, and
    # that over the worker processes (the wall time they add when the partitions keep every
    # process busy); issue 11's budget: <= 3 s at N=1,000,000.
    summed = float(result.get("coll_summed", 0.0))
    steps = " ".join(
        f"{key.removeprefix('coll_')}={value}"
        for key, value in result.items()
        if key.startswith("coll_") and key != "coll_summed"
    )
    print(
        f"BENCH cob_collections loans={result['loans']} summed_seconds={summed:.2f} "
        f"wall_seconds={summed / processes:.2f} share={summed / processes / seconds:.3f} "
        f"{steps} processes={processes} night={result['night']}",
        flush=True,
    )


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def pool_cpu_seconds(worker_pid: int) -> float:
    """CPU seconds of the Celery worker's pool processes, forked once the parent has
    imported everything: their CPU is the run's (the parent only takes tasks off Redis)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == worker_pid:
                children.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return sum(_proc_cpu(pid) for pid in children)


class BackendCpu(threading.Thread):
    """The CPU seconds of the bench database's PostgreSQL backends, sampled every 0.1 s
    while the run goes (a backend gone between two samples keeps its last reading), and
    what its active backends were waiting on at each sample (`waits`: a lock between the
    worker processes shows as Lock:..., the disk as IO:..., running as CPU)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[int, float] = {}
        self.waits: dict[str, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg2

        conn = psycopg2.connect(f"{PG}/postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            while not self.done.is_set():
                cursor.execute(
                    "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s",
                    [DB],
                )
                for pid, state, wait_type, wait in cursor.fetchall():
                    self.seen[pid] = max(self.seen.get(pid, 0.0), _proc_cpu(pid))
                    if state == "active":
                        key = f"{wait_type}:{wait}" if wait_type else "CPU"
                        self.waits[key] = self.waits.get(key, 0) + 1
                self.done.wait(0.1)
        conn.close()

    def stop(self) -> float:
        self.done.set()
        if self.is_alive():
            self.join()
        return sum(self.seen.values())


# The floor lasts half a second at 100,000 loans, so a busy moment of the machine moves one
# run by a quarter (0.46 to 0.73 s in five runs in a row on one machine): the bench takes
# several, half before the nights and half after, and the median of them all.
FLOOR_RUNS = int(os.environ.get("COB_BENCH_FLOOR_RUNS", "6"))


def cob_floor_runs(n: int, count: int) -> list[float]:
    """`count` runs of the raw-SQL floor of one night for n loans, now, on this server (a
    scratch database), each after a CHECKPOINT. Measured straight after the nights without
    it, a run also paid for their writes still being flushed (7.4 to 9.3 s at a million
    loans on one machine), which made the floor slower and the ratio smaller."""
    scratch = f"{DB}_floor"
    runs = []
    for _ in range(count):
        psql(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        psql(f"CREATE DATABASE {scratch}")
        psql("CHECKPOINT")
        try:
            out = subprocess.run(
                ["bash", str(ROOT / "bench" / "cob_floor.sh"), str(n), f"{PG}/{scratch}"],
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            psql(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return runs


FLOOR_KEYS = ("floor_seconds", "floor_spread")


def floor_summary(before: list[float], after: list[float]) -> dict[str, float]:
    """The floor (the median of every run) and its spread (slowest over fastest run), printed
    with the runs: a spread well above 1 says the machine was not quiet."""
    runs = before + after
    floor, spread = statistics.median(runs), max(runs) / min(runs)
    print(
        f"floor runs: {', '.join(f'{r:.2f}' for r in before)} s"
        + (f" before the nights, {', '.join(f'{r:.2f}' for r in after)} s after" if after else "")
        + f"; median {floor:.2f} s, slowest/fastest {spread:.2f}",
        flush=True,
    )
    return {"floor_seconds": floor, "floor_spread": spread}


def cob_floor(n: int) -> float:
    """The floor of one night for n loans: the median of FLOOR_RUNS runs, now."""
    return floor_summary(cob_floor_runs(n, FLOOR_RUNS), [])["floor_seconds"]


def wall_split(run, seconds: float, processes: int) -> str:
    """Where the wall time went: from the start to the first partition's start (planning,
    dispatch, a worker taking the task), the partitions' span, and from the last partition
    to the run's end (the chord's close, its reads included); busy = the partitions'
    seconds summed, over the span and the worker's processes (1.00: no process ever
    waited)."""
    parts = list(run.partitions.all())
    starts = [p.finished_at.timestamp() - p.steps["total_seconds"] for p in parts]
    ends = [p.finished_at.timestamp() for p in parts]
    origin = run.started_at.timestamp()
    span = max(ends) - min(starts)
    busy = sum(p.steps["total_seconds"] for p in parts)
    return (
        f"wall {seconds:.2f} s: to the first partition {min(starts) - origin:.2f} s, partitions "
        f"{span:.2f} s (busy {busy / (processes * span):.2f} of {processes} process(es)), "
        f"after the last (the close: the night's reads and totals) "
        f"{run.finished_at.timestamp() - max(ends):.2f} s"
    )


def timed_run(n: int) -> None:
    import django

    django.setup()
    from django.conf import settings

    from lendcore.celery import app

    settings.COB_PARTITION_SIZE = PARTITION
    processes = int(os.environ.get("COB_BENCH_RUN_PROCESSES", "2"))
    deadline = time.monotonic() + 30
    while not app.control.ping(
        destination=[os.environ.get("COB_BENCH_WORKER", f"{QUEUE}@localhost")], timeout=0.5
    ):
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not start")
    profile = STATEMENTS > 0 and pg_statements.available(PG)
    if STATEMENTS and not profile:
        print("no statement profile: the server does not preload pg_stat_statements")
    for night in range(1, NIGHTS + 1):
        _timed_night(night, processes, profile)


def _checkpoint() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def _wal_stats() -> dict[str, int]:
    """The server's WAL counters (pg_stat_wal, PostgreSQL 14+) and requested checkpoints."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.wal_bytes::bigint, w.wal_records, w.wal_fpi, b.checkpoints_req "
            "FROM pg_stat_wal w, pg_stat_bgwriter b"
        )
        row = cursor.fetchone()
    return dict(zip(("bytes", "records", "fpi", "checkpoints"), row, strict=True))


def _timed_night(night: int, processes: int, profile: bool = False) -> None:
    from django.conf import settings

    from servicing.cob.runner import cob_run_start, cob_run_wait

    _checkpoint()  # each night starts as the floor does: nothing left to flush
    if profile:
        pg_statements.reset(PG)
    wal_before = _wal_stats()
    started = time.perf_counter()
    run = cob_run_start(trigger="bench")
    run = cob_run_wait(run_id=run.pk, timeout=600, poll=0.05)
    seconds = time.perf_counter() - started
    wal = {key: value - wal_before[key] for key, value in _wal_stats().items()}
    if run.status != "succeeded":
        raise SystemExit(f"COB failed: {run.error}")
    print(f"-- night {night}", flush=True)
    print(
        f"COB {run.business_date}: {run.loans_done:,} loans, {run.partitions_total} partitions "
        f"of {PARTITION:,}, {processes} worker process(es)"
    )
    print(f"{'step':<24}{'count':>12}{'seconds (summed)':>20}")
    for step, row in run.steps.items():
        print(f"{step:<24}{int(row['count']):>12,}{row['seconds']:>20.2f}")
    print(wall_split(run, seconds, processes))
    # the server's WAL during the night (every database: run the bench on a quiet server)
    print(
        f"WAL {wal['bytes'] / 2**20:,.0f} MB in {wal['records']:,} records, "
        f"{wal['fpi']:,} full-page images; {wal['checkpoints']} checkpoint(s) requested"
    )
    if profile:
        print("\n".join(pg_statements.report(PG, DB, STATEMENTS)))
    rate = run.loans_done / seconds
    # collections' steps (COB_EXTRA_STEPS: collections_close, with the hardship plans and
    # recoveries; dunning_queue), summed over the partitions like the table above
    extra = [path.rsplit(".", 1)[1] for path in getattr(settings, "COB_EXTRA_STEPS", ())]
    coll = {step: float(run.steps.get(step, {}).get("seconds", 0.0)) for step in extra}
    coll_keys = " ".join(f"coll_{step}={value:.2f}" for step, value in coll.items())
    # the parent adds the floor and prints the BENCH lines
    print(
        f"RESULT cob night={night} loans={run.loans_done} seconds={seconds:.2f} "
        f"loans_per_s={rate:.0f} "
        f"coll_summed={sum(coll.values()):.2f} {coll_keys}"
    )


def scaling_line(n: int, by_processes: dict[int, dict]) -> str:
    """`BENCH cob_scaling`: each count's seconds, and the first count's over the last's."""
    seconds = {p: float(r["seconds"]) for p, r in by_processes.items()}
    first, last = PROCESSES[0], PROCESSES[-1]
    parts = " ".join(f"seconds_{p}={s:.2f}" for p, s in seconds.items())
    return f"BENCH cob_scaling loans={n} {parts} speedup={seconds[first] / seconds[last]:.2f}"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        n = int(sys.argv[2])
        print(f"seeded {n:,} loans in {seed(n):.1f} s")
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--run":
        timed_run(int(sys.argv[2]))
        return
    if TEMPLATE == "drop":
        for n in sys.argv[1].split(",") if len(sys.argv) > 1 else ["100000"]:
            psql(f"DROP DATABASE IF EXISTS {DB}_tmpl_{int(n)} WITH (FORCE)")
        return
    sizes = [
        int(x)
        for x in (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("N", "100000")).split(",")
    ]
    results = []
    try:
        for n in sizes:
            print(f"== N={n:,}", flush=True)
            by_processes: dict[int, dict] = {}
            floor = None
            for processes in PROCESSES:
                print(f"-- {processes} worker process(es)", flush=True)
                by_processes[processes] = run_one(n, processes, floor)
                measured = by_processes[processes]
                floor = {key: measured[key] for key in FLOOR_KEYS if key in measured} or None
            results.append((n, by_processes[PROCESSES[-1]]))
            if len(PROCESSES) > 1:
                print(scaling_line(n, by_processes), flush=True)
    finally:
        if OWN_TEMPLATE:
            for n in sizes:
                psql(f"DROP DATABASE IF EXISTS {DB}_tmpl_{n} WITH (FORCE)")
    if len(results) > 1:
        base_n, base = results[0]
        print("growth (seconds per loan relative to the first size):")
        for n, r in results:
            per = float(r["seconds"]) / n
            print(
                f"  N={n:>9,}  {float(r['seconds']):7.2f} s  "
                f"x{per / (float(base['seconds']) / base_n):.2f} per loan"
            )
    if KEEP:
        print(f"kept {DB} (COB_BENCH_KEEP) for profiling: drop it when done")
    else:
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
