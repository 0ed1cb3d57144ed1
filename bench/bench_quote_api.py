"""Benchmark: POST /api/v1/quotes/ through the Django test client (goal: median ≤ 15 ms).

Run with `make bench`. Prints human lines and `BENCH quote_api median_ms=… p95_ms=…`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lendcore.settings.test")

import django

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

BODY = {
    "principal": "25000.00",
    "annual_rate": "8.75",
    "term": 60,
    "frequency": "monthly",
    "amortization": "level",
    "interest_method": "declining",
    "day_count": "30/360",
    "disbursement_date": "2026-12-01",
    "fees": [{"name": "origination", "amount": "750.00", "kind": "prepaid"}],
}


def main(runs: int = 300, warmup: int = 30) -> None:
    setup_test_environment()
    client = Client()
    for _ in range(warmup):
        response = client.post("/api/v1/quotes/", BODY, content_type="application/json")
        assert response.status_code == 200, response.content
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        client.post("/api/v1/quotes/", BODY, content_type="application/json")
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"quote API, 60 monthly payments with a prepaid fee: {runs} runs")
    print(f"  median {median:.2f} ms, p95 {p95:.2f} ms (goal: median ≤ 15 ms)")
    print(f"BENCH quote_api median_ms={median:.2f} p95_ms={p95:.2f}")


if __name__ == "__main__":
    main()
