"""A worker's close of business reads the snapshot and the day's ledger side by side, on
connections of their own (PostgreSQL), and writes what it would have read alone."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from lendcore.core.side_reads import reads_side_by_side, side_by_side_possible
from servicing.cob import runner
from servicing.cob.runner import cob_close_through
from servicing.daily_totals import daily_totals_write
from servicing.models import CobRun, LedgerDayTotal, PortfolioSnapshot
from servicing.snapshots import portfolio_snapshot_write

from .factories import LoanFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 1, 20)


def _rows(model, day: date) -> set[tuple]:
    return {row[1:] for row in model.objects.filter(business_date=day).values_list()}


def test_reads_run_on_threads_of_their_own_only_when_everything_is_committed():
    def thread() -> int:
        return threading.get_ident()

    here = threading.get_ident()
    assert reads_side_by_side([thread, thread], committed=False) == [here, here]
    side = reads_side_by_side([thread, thread], committed=True)
    assert here not in side
    assert side_by_side_possible() == (connection.vendor == "postgresql")


def test_the_close_writes_what_it_would_read_alone(borrower, business_date, monkeypatch):
    for n in range(3):
        LoanFactory(borrower=borrower, application_ref=f"SIDE-{n}")
    threads = []
    snapshot_cells = runner.portfolio_snapshot_cells

    def spied(day):
        threads.append(threading.get_ident())
        return snapshot_cells(day)

    monkeypatch.setattr(runner, "portfolio_snapshot_cells", spied)

    [*_, (day, outcome, run)] = cob_close_through(through=DAY)

    assert (day, outcome) == (DAY, "closed")
    # the snapshot and the ledger in up to two ranges of entries (one: the night has one)
    assert run.steps["close_reads"]["count"] in {2, 3}
    side_by_side = connection.vendor == "postgresql"  # and nothing of a caller's uncommitted
    assert (threading.get_ident() not in threads) == side_by_side
    ledger, snapshot = _rows(LedgerDayTotal, DAY), _rows(PortfolioSnapshot, DAY)
    assert ledger
    assert snapshot
    # the same day's figures read again, alone, on this connection
    daily_totals_write(DAY, source="cob")
    portfolio_snapshot_write(DAY)
    assert _rows(LedgerDayTotal, DAY) == ledger
    assert _rows(PortfolioSnapshot, DAY) == snapshot
    assert CobRun.objects.filter(business_date=DAY, status="succeeded").exists()
