"""What two changes of a night's shape would save, measured on the benchmark's seeded book:
the figures behind `docs/cob_night_shape.md`. Neither change is built; this measures them.

    make bench-cob-levers N=100000

Copies the seeded template of `bench_cob` (`lendcore_bench_cob_tmpl_<N>`; seeded first if it
is missing, and then dropped at the end unless COB_BENCH_TEMPLATE=1) to a scratch database
and, over the first LEVERS_PARTITIONS partitions (default 4) of COB_BENCH_PARTITION loans,
times each variant of a statement inside a transaction that is rolled back, so every round
writes the same rows. Each round starts with a CHECKPOINT, as a night does, so both variants
pay their full-page writes. The variants alternate over LEVERS_ROUNDS rounds (default 3); a
figure is the median per partition, in milliseconds.

- `subledger`: the night's accrual statement as it is (a Dr interest-receivable line per
  loan) against the same statement posting that line once per product (`loan_id` NULL),
  each loan's share staying in its accrual row.
- `narrow_state`: the closing UPDATE's SET list (days past due, the accrual results,
  `last_closed_on`) on the loan row, against the same UPDATE on a table holding only those
  columns: what a loan's daily state in its own narrow table would cost.

Ends with, for each,
`BENCH cob_lever_<name> loans=<N> before_ms=.. after_ms=.. saving_ms=.. night_saving_s=..
floor_seconds=.. ratio_points=..`: `night_saving_s` is the saving over the night's N/partition
partitions shared by two worker processes, and `ratio_points` that over the raw-SQL floor
measured in the same run (`cob_floor.sh`), i.e. how far it would move `bench-cob`'s ratio.

The seeded loans have no accrual history, so the journal's and accrual rows' indexes are
small: a real book's (loan, account) index is larger, and the per-loan line dearer.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import bench_cob  # bench/, beside this script

N_DEFAULT = 100_000
SCRATCH = f"{bench_cob.DB}_levers"
PARTITIONS = int(os.environ.get("LEVERS_PARTITIONS", "4"))
ROUNDS = int(os.environ.get("LEVERS_ROUNDS", "3"))
PROCESSES = 2

# The accrual statement's receivable lines: per loan (as built) and per product (proposed).
PER_LOAN_LINES = """    SELECT e.id, a.loan_id, '{interest_account}', a.posted, 0
      FROM acc a JOIN ent e ON e.effective_date = a.day
     WHERE a.posted > 0
    UNION ALL"""
PER_PRODUCT_LINES = """    SELECT e.id, NULL, '{interest_account}', SUM(a.posted), 0
      FROM acc a JOIN ent e ON e.effective_date = a.day
     WHERE a.posted > 0 GROUP BY e.id, a.product_code
    UNION ALL"""

STATE_COLUMNS = (
    "id, status, oldest_unpaid_due_date, dpd, delinquency_bucket, non_accrual, last_closed_on,"
    " accrued_interest_exact, accrued_interest_posted, last_accrual_date, interest_balance"
)
# The closing UPDATE's SET list (servicing/cob/steps/delinquency.py) with constants for what
# the accrual would have computed: the cost measured is the row's, not the arithmetic's.
STATE_UPDATE = """
UPDATE {table} l
   SET dpd = CASE WHEN l.status = 'active' AND l.oldest_unpaid_due_date < %(day)s
                  THEN %(day)s - l.oldest_unpaid_due_date ELSE 0 END,
       delinquency_bucket = l.delinquency_bucket,
       non_accrual = l.non_accrual,
       last_closed_on = %(day)s,
       accrued_interest_exact = l.accrued_interest_exact + 0.123456,
       accrued_interest_posted = l.accrued_interest_posted + 0.12,
       last_accrual_date = %(day)s,
       interest_balance = l.interest_balance + 0.12
 WHERE l.id BETWEEN %(lo)s AND %(hi)s
"""


def measure() -> dict[str, tuple[float, float]]:
    """In the scratch database: (before, after) medians in ms per partition, per lever."""
    import django

    django.setup()
    from datetime import date

    from django.db import connection, transaction

    from servicing.cob.steps import Scope
    from servicing.cob.steps import accrual as accrual_step

    if PER_LOAN_LINES not in accrual_step.ACCRUAL_SQL:
        raise SystemExit("the accrual statement changed: update PER_LOAN_LINES in this bench")
    day = date.fromisoformat(bench_cob.DAY)
    size = bench_cob.PARTITION
    ranges = [(1 + k * size, (k + 1) * size) for k in range(PARTITIONS)]
    built = (accrual_step.ACCRUAL_SQL, accrual_step.ACCRUAL_ONE_DAY)
    proposed = (
        built[0].replace(PER_LOAN_LINES, PER_PRODUCT_LINES),
        built[1].replace("l.interest_model,", "l.interest_model, l.product_code,"),
    )

    def checkpoint() -> None:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")

    def accrual_ms(statements: tuple[str, str]) -> list[float]:
        accrual_step.ACCRUAL_SQL, accrual_step.ACCRUAL_ONE_DAY = statements
        try:
            checkpoint()
            times = []
            for lo, hi in ranges:
                with transaction.atomic():
                    started = time.perf_counter()
                    accrual_step.accrue_sql(Scope(lo=lo, hi=hi, day=day, business_date=day))
                    times.append((time.perf_counter() - started) * 1000)
                    transaction.set_rollback(True)
            return times
        finally:
            accrual_step.ACCRUAL_SQL, accrual_step.ACCRUAL_ONE_DAY = built

    def update_ms(table: str) -> list[float]:
        checkpoint()
        times = []
        for lo, hi in ranges:
            with transaction.atomic(), connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(STATE_UPDATE.format(table=table), {"day": day, "lo": lo, "hi": hi})
                times.append((time.perf_counter() - started) * 1000)
                transaction.set_rollback(True)
        return times

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_loan_state")
        cursor.execute(
            "CREATE TABLE bench_loan_state WITH (fillfactor = 80) AS "  # the loan table's
            f"SELECT {STATE_COLUMNS} FROM servicing_loan"
        )
        cursor.execute("ALTER TABLE bench_loan_state ADD PRIMARY KEY (id)")
        cursor.execute("VACUUM ANALYZE bench_loan_state")
        cursor.execute("VACUUM ANALYZE servicing_loan")
    runs: dict[str, list[float]] = {k: [] for k in ("per_loan", "per_product", "wide", "narrow")}
    for _ in range(ROUNDS):
        runs["per_loan"] += accrual_ms(built)
        runs["per_product"] += accrual_ms(proposed)
        runs["wide"] += update_ms("servicing_loan")
        runs["narrow"] += update_ms("bench_loan_state")
    for name, times in runs.items():
        print(f"{name:12} ms per partition: {', '.join(f'{t:.0f}' for t in times)}", flush=True)
    median = {name: statistics.median(times) for name, times in runs.items()}
    return {
        "subledger": (median["per_loan"], median["per_product"]),
        "narrow_state": (median["wide"], median["narrow"]),
    }


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] == "--measure":
        for name, (before, after) in measure().items():
            print(f"RESULT {name} {before:.2f} {after:.2f}", flush=True)
        return
    n = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("N", N_DEFAULT))
    template = f"{bench_cob.DB}_tmpl_{n}"
    seeded_here = not bench_cob.database_exists(template)
    if seeded_here:
        bench_cob.migrate_and_seed(n, template)
    env = {**bench_cob.ENV, "DATABASE_URL": f"{bench_cob.PG}/{SCRATCH}"}
    try:
        bench_cob.psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        bench_cob.psql(f"CREATE DATABASE {SCRATCH} TEMPLATE {template}")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=bench_cob.ROOT,
            env=env,
            check=True,
        )
        out = subprocess.run(
            [sys.executable, __file__, "--measure"],
            cwd=bench_cob.ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        bench_cob.psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
    lines = out.stdout.strip().splitlines()
    print("\n".join(line for line in lines if not line.startswith("RESULT")), flush=True)
    floor = bench_cob.cob_floor(n)
    if seeded_here and bench_cob.TEMPLATE != "1":
        bench_cob.psql(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    partitions = -(-n // bench_cob.PARTITION)
    for line in lines:
        if not line.startswith("RESULT"):
            continue
        _, name, before, after = line.split()
        saving_ms = float(before) - float(after)
        night_saving = saving_ms / 1000 * partitions / PROCESSES
        print(
            f"BENCH cob_lever_{name} loans={n} before_ms={float(before):.1f} "
            f"after_ms={float(after):.1f} saving_ms={saving_ms:.1f} "
            f"night_saving_s={night_saving:.2f} floor_seconds={floor:.2f} "
            f"ratio_points={night_saving / floor:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
