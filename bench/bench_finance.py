"""Benchmark of the finance kernel's two hot paths: a 30-year schedule and its APR.

Run from the repository root: ``python bench/bench_finance.py``. Prints a human line per
figure and one machine line ``BENCH <name> median_ms=<x>``. Goals: schedule_360 <= 2 ms,
regz_apr_360 <= 5 ms (median over the timed runs, after a warm-up).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lendcore.finance.apr import regz_apr
from lendcore.finance.schedule import LoanTerms, build_schedule

WARMUP = 20
RUNS = 200
GOALS_MS = {"schedule_360": 2.0, "regz_apr_360": 5.0}


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of ``action`` in milliseconds, after ``WARMUP`` untimed calls."""
    for _ in range(WARMUP):
        action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> int:
    terms = LoanTerms(
        principal=Decimal("250000.00"),
        annual_rate=Decimal("0.0675"),
        n_periods=360,
        frequency="monthly",
        disbursement_date=date(2025, 1, 15),
        day_count="30/360",
    )
    schedule = build_schedule(terms)
    payments = [(i.due_date, i.payment) for i in schedule.installments]
    amount_financed = terms.principal - Decimal("3500.00")  # prepaid finance charges

    figures = {
        "schedule_360": median_ms(lambda: build_schedule(terms)),
        "regz_apr_360": median_ms(
            lambda: regz_apr(amount_financed, terms.disbursement_date, payments)
        ),
    }
    apr = regz_apr(amount_financed, terms.disbursement_date, payments)
    print(f"360 monthly payments of {schedule.payment}; APR with $3,500 prepaid: {apr:.4f}%")
    for name, value in figures.items():
        goal = GOALS_MS[name]
        verdict = "ok" if value <= goal else "OVER GOAL"
        print(f"{name}: median {value:.3f} ms over {RUNS} runs (goal <= {goal} ms) {verdict}")
    for name, value in figures.items():
        print(f"BENCH {name} median_ms={value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
