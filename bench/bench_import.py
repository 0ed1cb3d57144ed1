"""Portfolio import at scale: validate and board an N-row loans CSV (issue 12: 100,000 rows in
<= 2 minutes on two cores).

    make bench-import N=100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_import.py --rows 10000

On its own PostgreSQL database (`lendcore_bench_import` on the DATABASE_URL server, created
and dropped at the end): writes an N-row loans file for the PERSONAL product (200 term
templates: 1,000-50,000 over 12-60 months, each some installments in with the balances the
schedule says, a tenth with fees outstanding), then times the whole job in this process the
way the Celery task runs it (`loan_import_run`: parse, validate every row, board in batches
through servicing's `loans_migrate`, opening entries) and checks the ledger afterwards.

The floor (../shared/bench/README.md), in the same run on the same server: COPY of the same
file into a bare table of text columns (the least any import of these bytes costs). Prints
`BENCH import rows=<N> seconds=<s> rows_per_s=<N/s> floor_seconds=<copy> ratio=<s/copy>`.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _servicing_bench import database_url, django_setup, recreate_database

DB = "lendcore_bench_import"
TODAY = date(2026, 6, 15)


def templates(count: int = 200) -> list[dict[str, str]]:
    """Term templates with the balances their schedule gives on TODAY."""
    from lendcore.finance.schedule import LoanTerms, build_schedule

    rng = random.Random(12)
    result = []
    for _ in range(count):
        n = rng.choice([12, 24, 36, 48, 60])
        disbursed = TODAY - timedelta(days=rng.randint(20, 700))
        principal = Decimal(rng.randint(10, 500) * 100)
        rate = Decimal(rng.choice(["8.99", "11.99", "17.99", "24.5"]))
        terms = LoanTerms(
            principal=principal,
            annual_rate=rate / 100,
            n_periods=n,
            frequency="monthly",
            disbursement_date=disbursed,
            day_count="ACT/365F",
        )
        schedule = build_schedule(terms)
        due = [i for i in schedule.installments if i.due_date <= TODAY]
        paid = min(len(due), n - 1)
        if paid and rng.random() < 0.1:
            paid -= 1  # a tenth are an installment behind
        outstanding = schedule.installments[paid - 1].balance if paid else principal
        result.append(
            {
                "product_code": "PERSONAL",
                "principal": str(principal),
                "annual_rate_pct": str(rate),
                "n_periods": str(n),
                "frequency": "monthly",
                "disbursement_date": disbursed.isoformat(),
                "as_of_date": TODAY.isoformat(),
                "principal_outstanding": str(outstanding),
                "interest_accrued": f"{rng.randint(0, 5000) / 100:.2f}",
                "fees_outstanding": "15.00" if rng.random() < 0.1 else "0.00",
                "installments_paid": str(paid),
            }
        )
    return result


def loans_file(rows: int) -> bytes:
    from origination.loan_import_csv import LOAN_COLUMNS

    shapes = templates()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(LOAN_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for n in range(rows):
        writer.writerow(
            {
                **shapes[n % len(shapes)],
                "external_id": f"LEGACY-{n:07d}",
                "borrower_ref": f"C{n // 2}",  # two loans per borrower
                "borrower_first_name": "Legacy",
                "borrower_last_name": f"Borrower {n // 2}",
                "borrower_email": f"b{n // 2}@example.com",
                "borrower_phone": "",
                "day_count": "",
                "first_due_date": "",
            }
        )
    return out.getvalue().encode()


def copy_floor(data: bytes, columns: int) -> float:
    """COPY the same bytes into a bare table of text columns: the floor."""
    from django.db import connection

    names = ", ".join(f"c{i} text" for i in range(columns))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_import_floor ({names})")
        began = time.monotonic()
        cursor.cursor.copy_expert(
            "COPY bench_import_floor FROM STDIN WITH (FORMAT csv, HEADER true)", io.BytesIO(data)
        )
        seconds = time.monotonic() - began
        cursor.execute("DROP TABLE bench_import_floor")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    url = database_url(DB)
    recreate_database(url)
    try:
        django_setup(url)
        run(args.rows)
    finally:
        from django.db import connections

        connections.close_all()
        drop(url)


def drop(url: str) -> None:
    from urllib.parse import urlparse, urlunparse

    import psycopg2

    parts = urlparse(url)
    admin = psycopg2.connect(urlunparse(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin.close()


def run(rows: int) -> None:
    from origination.demo import personal_product_ensure
    from origination.loan_import_csv import LOAN_COLUMNS
    from origination.services.loan_import import loan_import_create, loan_import_run
    from servicing.ledger import ledger_problems
    from servicing.models import JournalEntry, Loan
    from servicing.services import business_date_set

    business_date_set(business_date=TODAY, acting_user=None)
    personal_product_ensure()
    data = loans_file(rows)
    print(f"file: {rows} rows, {len(data) / 1e6:.1f} MB")
    floor = copy_floor(data, len(LOAN_COLUMNS))
    job = loan_import_create(content=data, acting_user=None, file_name="bench.csv", enqueue=False)
    began = time.monotonic()
    job = loan_import_run(import_id=job.pk)
    seconds = time.monotonic() - began
    assert job.status == "succeeded", (job.message, job.errors[:5])
    assert Loan.objects.count() == rows
    print(f"imported {job.imported_rows} loans, {JournalEntry.objects.count()} journal entries")
    check = time.monotonic()
    problems = ledger_problems()
    print(f"ledger_check: {len(problems) or 'OK'} ({time.monotonic() - check:.1f} s)")
    assert not problems, problems[:5]
    print(
        f"BENCH import rows={rows} seconds={seconds:.2f} rows_per_s={rows / seconds:.0f} "
        f"floor_seconds={floor:.3f} ratio={seconds / floor:.1f}"
    )


if __name__ == "__main__":
    main()
