"""The loan tape at scale: N loans seeded in PostgreSQL the way bench_cob.py seeds them, plus
their ledger and delinquency history, then the tape as of a past date timed in CSV and in
Parquet against a floor measured in the same run on the same server.

    make bench-loan-tape N=100000
    BENCH_PG=postgres://postgres@127.0.0.1:5432

Creates (and drops first, and at the end) the database lendcore_bench_tape, migrates it and
seeds it with bench_cob's seed (loans, schedules, installments, the delinquent tenth's late
fees), then adds with INSERT ... SELECT what the tape reads that the COB seed leaves out: a
disbursement entry per loan, an interest accrual and a payment entry per paid installment
(about 27 journal lines a loan) and the delinquent loans' bucket history (a row at 1, 30, 60,
90 and 120 days past due).

Timed: `loan_tape_rows(as_of=2026-05-31)` written in full (every row, every byte) to a sink
that counts and drops bytes, once as CSV and once as Parquet. Floor: `COPY (SELECT * FROM
servicing_loan) TO STDOUT` from the same process over the same connection, read in full
(the least a tape of every loan costs: each loan row once, no ledger, no formatting).
Prints per format
`BENCH loan_tape format=<csv|parquet> loans=<N> seconds=<s> floor_seconds=<s> ratio=<s/floor>
rows_per_s=<rate> bytes=<size>` (/work/shared/bench/README.md: a ratio to a floor measured
in the same run, since machines differ by up to 2x).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_cob  # noqa: E402  (its seed: the same loans, schedules and fees)

PG = bench_cob.PG
DB = os.environ.get("TAPE_BENCH_DB", "lendcore_bench_tape")
AS_OF = "2026-05-31"

LEDGER_SQL = """
CREATE TEMP TABLE paid_inst AS
SELECT i.loan_id, i.due_date, row_number() OVER (ORDER BY i.id) AS rn
  FROM servicing_installment i WHERE i.status = 'paid';

INSERT INTO servicing_journalentry (id, business_date, effective_date, entry_type, loan_id,
                                    reference, memo, created_at)
SELECT 1500000000 + l.id, l.disbursed_on, l.disbursed_on, 'disbursement', l.id, '',
       'disbursement (seed)', now() FROM servicing_loan l;
INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
SELECT 1500000000 + l.id, l.id, a.account, a.dr, a.cr FROM servicing_loan l
 CROSS JOIN (VALUES ('1100', 12000.00, 0), ('1000', 0, 12000.00)) a(account, dr, cr);

INSERT INTO servicing_journalentry (id, business_date, effective_date, entry_type, loan_id,
                                    reference, memo, created_at)
SELECT 1600000000 + p.rn, p.due_date - 1, p.due_date - 1, 'accrual', p.loan_id, '',
       'accrual (seed)', now() FROM paid_inst p;
INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
SELECT 1600000000 + p.rn, p.loan_id, a.account, a.dr, a.cr FROM paid_inst p
 CROSS JOIN (VALUES ('1110', 100.00, 0), ('4100', 0, 100.00)) a(account, dr, cr);

INSERT INTO servicing_journalentry (id, business_date, effective_date, entry_type, loan_id,
                                    reference, memo, created_at)
SELECT 1700000000 + p.rn, p.due_date, p.due_date, 'payment', p.loan_id, '',
       'payment (seed)', now() FROM paid_inst p;
INSERT INTO servicing_journalline (entry_id, loan_id, account, debit, credit)
SELECT 1700000000 + p.rn, p.loan_id, a.account, a.dr, a.cr FROM paid_inst p
 CROSS JOIN (VALUES ('1000', 1100.00, 0), ('1100', 0, 1000.00), ('1110', 0, 100.00))
       a(account, dr, cr);

INSERT INTO servicing_delinquencyhistory (loan_id, business_date, from_bucket, to_bucket, dpd,
                                          created_at)
SELECT l.id, (l.oldest_unpaid_due_date + b.dpd)::date, b.from_bucket, b.to_bucket, b.dpd, now()
  FROM servicing_loan l
 CROSS JOIN (VALUES (1, 'current', '1-29'), (30, '1-29', '30-59'), (60, '30-59', '60-89'),
                    (90, '60-89', '90-119'), (120, '90-119', '120+')) b(dpd, from_bucket, to_bucket)
 WHERE l.oldest_unpaid_due_date IS NOT NULL
   AND l.oldest_unpaid_due_date + b.dpd < date '2026-06-15';
"""


def seed_ledger() -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in LEDGER_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM servicing_journalline")
        (lines,) = cursor.fetchone()
    print(f"seeded the ledger ({lines:,} journal lines) in {time.perf_counter() - started:.1f} s")


class Drain:
    """A binary file that counts what it is given and keeps nothing."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data) -> int:
        self.size += len(data)
        return len(data)


def floor_seconds() -> float:
    """COPY every loan row out over the same connection, read in full."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        started = time.perf_counter()
        cursor.copy_expert("COPY (SELECT * FROM servicing_loan) TO STDOUT", Drain())
        return time.perf_counter() - started


def timed_run() -> None:
    import django

    django.setup()
    from datetime import date

    from servicing.loan_tape import loan_tape_rows
    from servicing.loan_tape_export import loan_tape_write

    as_of = date.fromisoformat(AS_OF)
    floor_seconds()  # warm the loan table's pages, as the tape's first pass would
    floor = floor_seconds()
    for fmt in ("csv", "parquet"):
        sink = Drain()
        counted = [0]
        started = time.perf_counter()
        loan_tape_write(sink, _counted(loan_tape_rows(as_of=as_of), counted), fmt)
        seconds = time.perf_counter() - started
        print(
            f"BENCH loan_tape format={fmt} loans={counted[0]} seconds={seconds:.2f} "
            f"floor_seconds={floor:.3f} ratio={seconds / floor:.1f} "
            f"rows_per_s={counted[0] / seconds:.0f} bytes={sink.size}",
            flush=True,
        )


def _counted(rows, counter: list[int]):
    for row in rows:
        counter[0] += 1
        yield row


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] == "--seed-ledger":
        seed_ledger()
        return
    if len(sys.argv) == 2 and sys.argv[1] == "--run":
        timed_run()
        return
    n = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("N", "100000"))
    env = {**bench_cob.ENV, "DATABASE_URL": f"{PG}/{DB}"}
    try:
        bench_cob.migrate_and_seed(n, DB)
        for step in ("--seed-ledger", "--run"):
            subprocess.run([sys.executable, __file__, step], cwd=ROOT, env=env, check=True)
    finally:
        if not os.environ.get("TAPE_BENCH_KEEP"):  # kept: to profile the tape on it
            bench_cob.psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
