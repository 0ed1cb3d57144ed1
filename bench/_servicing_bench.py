"""Shared by the servicing benchmarks: a throw-away PostgreSQL database, seeding through
`loan_board`, and percentiles. Not a test; imported by bench_payments_load / bench_loan_detail.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    """DATABASE_URL (the server to use) with the database name replaced by `name`."""
    base = os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    parts = urlparse(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit(f"These benchmarks need PostgreSQL: DATABASE_URL={base!r}")
    return urlunparse(parts._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    """DROP and CREATE the database named in `url` (connecting to `postgres` to do it)."""
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not name.startswith("lendcore_bench"):
        sys.exit(f"Refusing to drop {name!r}: bench databases are named lendcore_bench*")
    admin = psycopg2.connect(urlunparse(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def django_setup(url: str) -> None:
    """Django in this process on the bench database (test settings: fast password hashing)."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "lendcore.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def boarding(*, principal: str, n_periods: int, disbursed_on: date, rate: str = "0.12"):
    from lendcore.finance.schedule import LoanTerms
    from servicing.types import LateFeePolicy, LoanBoarding

    return LoanBoarding(
        terms=LoanTerms(
            principal=Decimal(principal),
            annual_rate=Decimal(rate),
            n_periods=n_periods,
            frequency="monthly",
            disbursement_date=disbursed_on,
            day_count="ACT/365F",
        ),
        product_code="PERSONAL",
        product_name="Personal loan",
        interest_model="daily_simple",
        late_fee=LateFeePolicy(kind="flat", amount=Decimal("15.00"), grace_days=10),
        nsf_fee=Decimal("25.00"),
    )


def board(*, borrower, ref: str, principal: str, n_periods: int, disbursed_on: date):
    from servicing.services import loan_board

    return loan_board(
        boarding=boarding(principal=principal, n_periods=n_periods, disbursed_on=disbursed_on),
        borrower=borrower,
        application_ref=ref,
        disbursed_on=disbursed_on,
        method="ach",
        reference=f"DISB-{ref}",
        acting_user=None,
    )


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]
