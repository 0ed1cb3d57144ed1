"""Benchmark: the automated decision, in process (goal: server-side median ≤ 50 ms).

`origination.services.application_decide` on submitted applications: identity check, a
fresh sandbox bureau pull (a new applicant each time: no 30-day reuse), a 20-rule active
rule set, the pricing tier, the stored Decision, the status transition and, for approvals,
the offer with its schedule and Reg Z APR. The after-commit effects (e-mails, the adverse-
action PDF) are queued to Celery in production; here their `.delay` is a no-op so the
figure is the request-side work only.

Database: DATABASE_URL if set (e.g. postgres://postgres@127.0.0.1:5432/lendcore_bench_orig,
migrated here), else SQLite in memory. Run: `python bench/bench_decision.py [runs]`.
Prints human lines and `BENCH decision median_ms=… p95_ms=…`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lendcore.settings.test")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

import django

django.setup()

from decimal import Decimal  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

# Sandbox profiles by the SSN's last four: approve, refer, decline, and a computed score.
PROFILES = ("9999", "5555", "1111", "1234", "9999", "0150")
RULE_KEYS = ("feature", "operator", "threshold", "outcome", "reason_code", "reason_text")
EXTRA_RULES = [  # 13 more, to a 20-rule set; chosen not to fire for the sandbox profiles
    ("age", "lt", "18", "decline", "AGE_BELOW_MINIMUM", "Applicant below the minimum age"),
    ("age", "gt", "100", "refer", "AGE_REVIEW", "Age needs manual review"),
    (
        "monthly_income",
        "lt",
        "1000",
        "decline",
        "INCOME_INSUFFICIENT",
        "Income insufficient for amount of credit requested",
    ),
    (
        "loan_to_income",
        "gt",
        "2",
        "decline",
        "LOAN_TO_INCOME",
        "Excessive obligations in relation to income",
    ),
    (
        "delinquencies_24m",
        "gte",
        "6",
        "decline",
        "DELINQUENT_OBLIGATIONS",
        "Delinquent past or present credit obligations with others",
    ),
    ("inquiries_6m", "gt", "10", "refer", "TOO_MANY_INQUIRIES", "Too many recent inquiries"),
    ("months_employed", "lt", "0", "refer", "LENGTH_OF_EMPLOYMENT", "Length of employment"),
    ("term", "gt", "84", "decline", "TERM_TOO_LONG", "Term not offered"),
    ("amount", "gt", "100000", "decline", "AMOUNT_TOO_HIGH", "Amount above our maximum"),
    ("amount", "lt", "100", "decline", "AMOUNT_TOO_LOW", "Amount below our minimum"),
    ("dti", "gt", "0.95", "decline", "DTI_EXTREME", "Excessive obligations in relation to income"),
    ("score", "gt", "900", "refer", "SCORE_OUT_OF_RANGE", "Credit score out of range"),
    ("identity_result", "eq", "review", "refer", "IDENTITY_REVIEW", "Identity needs review"),
]


def setup_data(n: int):
    from lendcore.accounts.services import roles_sync
    from origination import services, tasks
    from origination.demo import PERSONAL_RULES, personal_product_ensure
    from origination.models import RuleSet
    from tests.origination.factories import ApplicantFactory, ApplicationFactory

    call_command("migrate", verbosity=0, interactive=False)
    roles_sync()
    product = personal_product_ensure()
    rules = [dict(r) for r in PERSONAL_RULES] + [
        dict(zip(RULE_KEYS, r, strict=True)) for r in EXTRA_RULES
    ]
    assert len(rules) == 20, len(rules)
    rule_set = services.rule_set_create(
        product=product, acting_user=None, rules=rules, name="bench 20 rules"
    )
    services.rule_set_activate(rule_set=rule_set, acting_user=None)
    assert RuleSet.objects.get(pk=rule_set.pk).rules.count() == 20
    ids = []
    with (
        mock.patch.object(tasks.application_decide_task, "delay"),
        mock.patch.object(tasks.notification_send_task, "delay"),
    ):
        for i in range(n):
            applicant = ApplicantFactory(last4=PROFILES[i % len(PROFILES)])
            application = ApplicationFactory(
                applicant=applicant,
                product=product,
                amount=Decimal("10000.00"),
                term=36,
                with_documents=True,
            )
            services.application_submit(application=application, acting_user=None)
            ids.append(application.pk)
    return ids


def main(runs: int = 300, warmup: int = 20) -> None:
    from origination import services, tasks

    settings.MEDIA_ROOT = "/tmp/lendcore-bench-media"
    settings.IDENTITY_BACKEND = "origination.adapters.identity.SandboxIdentity"
    settings.BUREAU_BACKEND = "origination.adapters.bureau.SandboxBureau"
    ids = setup_data(runs + warmup)
    timings: list[float] = []
    by_outcome: dict[str, list[float]] = defaultdict(list)
    with (
        mock.patch.object(tasks.notification_send_task, "delay"),
        mock.patch.object(tasks.adverse_action_notice_task, "delay"),
    ):
        for i, application_id in enumerate(ids):
            start = time.perf_counter()
            application = services.application_decide(application_id=application_id)
            elapsed = (time.perf_counter() - start) * 1000
            if i >= warmup:
                timings.append(elapsed)
                by_outcome[application.status].append(elapsed)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    vendor = connection.vendor
    print(f"automated decision, sandbox bureau, 20-rule set, {vendor}: {len(timings)} runs")
    for status, values in sorted(by_outcome.items()):
        print(f"  {status:<10} n={len(values):<4} median {statistics.median(values):.2f} ms")
    print(f"  median {median:.2f} ms, p95 {p95:.2f} ms (goal: median ≤ 50 ms)")
    print(f"BENCH decision median_ms={median:.2f} p95_ms={p95:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
