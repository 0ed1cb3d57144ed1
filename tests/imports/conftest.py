"""Portfolio import fixtures: the PERSONAL product, a business date, CSV builders, and the
ledger check after every test."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from lendcore.finance.schedule import LoanTerms, build_schedule
from origination.demo import personal_product_ensure
from origination.loan_import_csv import LOAN_COLUMNS
from servicing.ledger import ledger_problems
from servicing.services import business_date_set

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _ledger_reconciles(db):
    yield
    problems = ledger_problems()
    assert not problems, "ledger_check failed:\n" + "\n".join(problems)


@pytest.fixture
def product(db):
    return personal_product_ensure()


@pytest.fixture
def today(db):
    business_date_set(business_date=TODAY, acting_user=None)
    return TODAY


def loan_row(n: int = 1, *, paid: int = 5, **overrides) -> dict[str, str]:
    """A valid row: 1,200.00 at 12 % over 12 months from 2026-01-01, `paid` installments
    paid, the balances as the schedule says on TODAY."""
    terms = LoanTerms(
        principal=Decimal("1200.00"),
        annual_rate=Decimal("0.12"),
        n_periods=12,
        frequency="monthly",
        disbursement_date=date(2026, 1, 1),
        day_count="ACT/365F",
    )
    schedule = build_schedule(terms)
    outstanding = schedule.installments[paid - 1].balance if paid else terms.principal
    row = {
        "external_id": f"OLD-{n}",
        "borrower_ref": f"B-{n}",
        "borrower_first_name": "Ada",
        "borrower_last_name": f"Lovelace{n}",
        "borrower_email": f"ada{n}@example.com",
        "borrower_phone": "",
        "product_code": "PERSONAL",
        "principal": "1200.00",
        "annual_rate_pct": "12",
        "n_periods": "12",
        "frequency": "monthly",
        "day_count": "",
        "disbursement_date": "2026-01-01",
        "first_due_date": "",
        "as_of_date": "2026-06-15",
        "principal_outstanding": str(outstanding),
        "interest_accrued": "3.45",
        "fees_outstanding": "0.00",
        "installments_paid": str(paid),
    }
    row.update(overrides)
    return row


def to_csv(rows: list[dict[str, str]], columns=None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(LOAN_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()
