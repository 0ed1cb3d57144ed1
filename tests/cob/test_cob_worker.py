"""COB on PostgreSQL with real Celery workers and Redis: the hand-built day, a second run
that changes nothing, a worker killed mid-partition, catch-up, a broker that is down."""

from __future__ import annotations

import os
import signal
import time
from datetime import date

import pytest

from servicing.cob.runner import (
    CobDispatchError,
    cob_close_through,
    cob_run_start,
    cob_run_wait,
)
from servicing.models import CobPartition, CobRun, InterestAccrual, Loan
from servicing.selectors import business_date_get

from .scenario import D, snapshot
from .test_cob_eager import assert_day_closed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.celery_worker
def test_a_day_on_real_workers_then_a_second_run_changes_nothing(
    book, celery_worker_factory, settings
):
    settings.COB_PARTITION_SIZE = 3  # several partitions over two worker processes
    celery_worker_factory()
    run = cob_run_start(trigger="test")
    assert run.mode == "celery"
    run = cob_run_wait(run_id=run.pk, timeout=120)
    assert run.status == CobRun.Status.SUCCEEDED, run.error
    assert run.partitions_done == run.partitions_total > 1
    assert_day_closed(book, reminders_sent=False)
    before = snapshot()
    results = cob_close_through(through=D, wait_timeout=60)
    assert results[0][1] == "already closed"
    assert snapshot() == before


@pytest.mark.celery_worker
def test_a_killed_worker_is_retried_to_the_same_end_state(
    book, celery_worker_factory, tmp_path, settings
):
    settings.COB_PARTITION_SIZE = 100  # one partition: the kill hits the only one
    pid_file = tmp_path / "pids"
    celery_worker_factory(COB_TEST_PAUSE="3", COB_TEST_PID_FILE=str(pid_file))
    run = cob_run_start(trigger="test")
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "no partition reached the pause"
        time.sleep(0.1)
    victim = int(pid_file.read_text().split()[0])
    # the partition has accrued (uncommitted) and sleeps: kill its process outright
    os.kill(victim, signal.SIGKILL)
    run = cob_run_wait(run_id=run.pk, timeout=120)
    assert run.status == CobRun.Status.SUCCEEDED, run.error
    assert len(pid_file.read_text().split()) >= 2  # redelivered and run again
    assert CobPartition.objects.get(run=run).attempts >= 2
    assert_day_closed(book, reminders_sent=False)
    active = Loan.objects.filter(status="active").count()
    assert InterestAccrual.objects.filter(date=D, reversed=False).count() == active


@pytest.mark.celery_worker
def test_catch_up_on_workers_equals_single_runs(book, celery_worker_factory):
    celery_worker_factory()
    results = cob_close_through(through=date(2026, 6, 17), wait_timeout=120)
    assert [r[1] for r in results] == ["closed"] * 3
    assert business_date_get() == date(2026, 6, 18)
    loan = Loan.objects.get(pk=book.loans["dpd31"].pk)
    assert loan.dpd == 33
    assert loan.last_closed_on == date(2026, 6, 17)


def test_broker_down_fails_loudly_and_closes_nothing(book):
    from lendcore.celery import app

    from .conftest import use_broker

    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    saved_options = app.conf.broker_transport_options
    use_broker(app, eager=False, broker="redis://127.0.0.1:1/0", backend="redis://127.0.0.1:1/0")
    app.conf.broker_connection_max_retries = 1
    app.conf.broker_transport_options = {**saved_options, "max_retries": 1}
    try:
        with pytest.raises(CobDispatchError):
            cob_run_start(trigger="test")
    finally:
        use_broker(app, eager=True, broker=saved[1], backend=saved[2])
        app.conf.broker_transport_options = saved_options
    # refused before it started: no run to half-finish
    assert not CobRun.objects.filter(business_date=D).exists()
    assert not Loan.objects.filter(last_closed_on=D).exists()
    assert business_date_get() == D
    # once the fault is cleared the same start finishes the day (eagerly here)
    run = cob_run_start(trigger="test")
    assert run.status == CobRun.Status.SUCCEEDED
    assert run.attempts == 1
