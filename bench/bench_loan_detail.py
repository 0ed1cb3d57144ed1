"""Benchmark: GET /api/v1/loans/{id}/ for a loan with 5 years of daily history vs a new loan.

Goal (issue 4): p95 <= 50 ms, and the old loan no slower than the new one (Fineract slows
from 50 to 161 ms as a loan's history grows). Goal (issue 15): the old loan's p95 <= 3x the
floor's p95, the floor being an authenticated GET /api/v1/business-date/ with the same client
and token, timed interleaved in the same run (machines differ by up to 2x; the ratio does not).

On its own PostgreSQL database (`lendcore_bench_detail` on the DATABASE_URL server, dropped
and created again): boards a 7-year loan disbursed five years before the business date and
builds its history the way production does, month by month: `accrue_interest` over each
month's days (set-based, one row and one journal entry per day) and the monthly payment
through `payment_post`. Then boards a new loan, and times the detail API for both through
the Django test client with a borrower's token (interleaved, after a warm-up), printing the
SQL query count of each and `BENCH loan_detail new_p95_ms=… old_p95_ms=… floor_p95_ms=…
ratio=…` (ratio = the old loan's p95 / the floor's p95).

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
      .venv/bin/python bench/bench_loan_detail.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _servicing_bench import (
    board,
    database_url,
    django_setup,
    percentile,
    recreate_database,
)

# The floor (shared bench README): token auth and one tiny read on the same stack.
FLOOR_PATH = "/api/v1/business-date/"
DISBURSED = date(2021, 1, 1)
YEARS = 5


def build(*, years: int):
    """The old loan with `years` of daily accrual and monthly payments, and a new loan."""
    from lendcore.accounts.services import api_token_issue, borrower_sign_up
    from lendcore.finance.dates import add_months
    from servicing.models import InterestAccrual, JournalEntry
    from servicing.services import accrue_interest, business_date_set, payment_post

    business_date_set(business_date=DISBURSED, acting_user=None)
    borrower = borrower_sign_up(
        email="history@example.com", password="bench-pass-123", first_name="Old", last_name="Loan"
    )
    token = api_token_issue(user=borrower.user).key
    old = board(
        borrower=borrower,
        ref="BENCH-OLD",
        principal="250000.00",
        n_periods=12 * (years + 2),
        disbursed_on=DISBURSED,
    )
    payment = old.schedule_versions.get().regular_payment
    began = time.monotonic()
    for month in range(1, 12 * years + 1):
        due = add_months(DISBURSED, month)
        business_date_set(business_date=due, acting_user=None)
        accrue_interest([old.pk], due)
        payment_post(
            loan=old,
            amount=payment,
            effective_date=due,
            method="ach",
            reference=f"month {month}",
            acting_user=None,
        )
    today = add_months(DISBURSED, 12 * years)
    new = board(
        borrower=borrower, ref="BENCH-NEW", principal="250000.00", n_periods=84, disbursed_on=today
    )
    accruals = InterestAccrual.objects.filter(loan=old).count()
    entries = JournalEntry.objects.filter(loan=old).count()
    print(
        f"old loan {old.loan_number}: {years} years of history built in "
        f"{time.monotonic() - began:.1f} s: {accruals} daily accrual rows, "
        f"{entries} journal entries, {12 * years} payments; new loan {new.loan_number}"
    )
    return old, new, token


def measure(old, new, token: str, *, runs: int, warmup: int) -> dict[str, list[float]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    client = Client(headers={"Authorization": f"Token {token}"})
    for loan in (old, new):
        for _ in range(warmup):
            assert client.get(f"/api/v1/loans/{loan.pk}/").status_code == 200
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"/api/v1/loans/{loan.pk}/").json()
        print(
            f"  {loan.loan_number}: {len(captured)} SQL queries; "
            f"principal {body['principal_balance']}, payoff today {body['payoff_today']}"
        )
    for _ in range(warmup):
        assert client.get(FLOOR_PATH).status_code == 200
    timings: dict[str, list[float]] = {"old": [], "new": [], "floor": []}
    paths = (
        ("old", f"/api/v1/loans/{old.pk}/"),
        ("new", f"/api/v1/loans/{new.pk}/"),
        ("floor", FLOOR_PATH),
    )
    for _ in range(runs):  # interleaved, so drift in the machine's load hits all alike
        for name, path in paths:
            start = time.perf_counter()
            response = client.get(path)
            timings[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--years", type=int, default=YEARS)
    parser.add_argument("--database", default="lendcore_bench_detail")
    args = parser.parse_args()

    url = database_url(args.database)
    recreate_database(url)
    django_setup(url)
    old, new, token = build(years=args.years)
    from servicing.ledger import ledger_problems

    assert not ledger_problems(), "the ledger does not reconcile"
    timings = measure(old, new, token, runs=args.runs, warmup=args.warmup)
    figures = {}
    for name in ("floor", "new", "old"):
        values = sorted(timings[name])
        figures[name] = (statistics.median(values), percentile(values, 95))
        print(
            f"  {name} loan: median {figures[name][0]:.2f} ms, p95 {figures[name][1]:.2f} ms "
            f"({args.runs} runs)"
        )
    new_p95, old_p95 = figures["new"][1], figures["old"][1]
    met = old_p95 <= 50 and old_p95 <= new_p95 * 1.10
    print(
        "  goal: p95 <= 50 ms and the old loan no slower than the new (within 10 % noise) -> "
        + ("met" if met else "NOT met")
    )
    floor_p95 = figures["floor"][1]
    ratio = old_p95 / floor_p95 if floor_p95 else 0.0
    print(
        "  goal: the old loan's p95 <= 3x the authenticated GET's p95 -> "
        + ("met" if ratio <= 3 else "NOT met")
    )
    print(
        f"BENCH loan_detail new_p95_ms={new_p95:.2f} old_p95_ms={old_p95:.2f} "
        f"floor_p95_ms={floor_p95:.2f} ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
