"""COB runs: start (one run per date; a second start while one runs is refused, 409), plan
loan id partitions, process each partition in one transaction (Celery tasks in a chord, or
in-process when tasks run eagerly), and close: advance the business date, write the record.

Exactly once per loan and date: a partition's work and its `done` marker commit together;
every step works only on loans whose `last_closed_on` is before the day, inside that same
transaction; accrual rows, late fees, reminders, bucket rows and transfers are unique per
loan/installment and date. A worker killed mid-partition rolls the transaction back; the
task (acks_late, reject_on_worker_lost) is redelivered and does the work once.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from lendcore.core.broker import broker_reachable
from lendcore.core.deferred_checks import deferred_checks_now
from lendcore.core.side_reads import reads_side_by_side, side_by_side_possible
from lendcore.core.state import transition
from lendcore.errors import Conflict
from lendcore.webhooks.outbox import event_emit
from servicing import effects
from servicing.daily_totals import daily_totals_write, ledger_row_reads
from servicing.effects import chord_send, task_signature, tasks_eager
from servicing.ledger import journal_checks_now
from servicing.lock_objects import (
    business_date_lock,
    cob_partition_lock,
    cob_run_lock,
    cob_run_lock_for_date,
)
from servicing.models import CobLoanFailure, CobPartition, CobRun, Loan
from servicing.month_ends import is_month_end, month_end_write
from servicing.rail_payments import rail_payments_process
from servicing.selectors import business_date_get
from servicing.snapshots import portfolio_snapshot_cells, portfolio_snapshot_write

from . import config
from .autopay import autopay_collect, autopay_settle
from .close import ONE_DAY, close_range
from .steps import StepClock

log = logging.getLogger("servicing.cob")


class CobRunConflict(Conflict):
    """A run for this date is in progress, or the date cannot be closed now (409)."""

    default_code = "cob_run_conflict"


class CobAlreadyClosed(Conflict):
    default_code = "cob_already_closed"


class CobDispatchError(Exception):
    """The broker refused the run's tasks: nothing was closed."""


def _now():
    return timezone.now()


# --------------------------------------------------------------------------- workers

WARM_TABLES = (
    "servicing_loan",
    "servicing_installment",
    "servicing_scheduleversion",
    "servicing_journalentry",
    "servicing_journalline",
    "servicing_interestaccrual",
    "servicing_statement",
    "servicing_notification",
    "servicing_delinquencyhistory",
    "servicing_chargeoffcandidate",
    "servicing_loanevent",
    "servicing_fee",
    "servicing_railtransfer",
    "servicing_autopayenrolment",
    "servicing_payment",
    "servicing_paymentapplication",
    "servicing_cobpartition",
    "servicing_cobrun",
    "accounts_borrower",
)


def cob_worker_warm() -> None:
    """Open this process's own database session and plan one statement over the tables
    COB uses (PostgreSQL loads their catalog entries once per session)."""
    for conn in connections.all(initialized_only=True):
        conn.close()
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in WARM_TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} LIMIT 0")  # noqa: S608


# --------------------------------------------------------------------------- start


def _plan(run: CobRun) -> None:
    bounds = Loan.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    size = config.partition_size()
    parts = []
    lo = bounds["lo"]
    number = 0
    while lo <= bounds["hi"]:
        parts.append(CobPartition(run=run, number=number, lo_id=lo, hi_id=lo + size - 1))
        lo += size
        number += 1
    CobPartition.objects.bulk_create(parts)
    D = run.business_date
    run.partitions_total = len(parts)
    run.loans_total = (
        Loan.objects.filter(disbursed_on__lte=D)
        .filter(Q(last_closed_on__lt=D) | Q(last_closed_on__isnull=True))
        .count()
    )


def cob_run_start(
    *, business_date: date | None = None, acting_user=None, trigger: str = "manual"
) -> CobRun:
    """Start (or resume a failed or stale run of) the close of the current business date.

    Refuses (409) a date other than the current business date, a date already closed, and
    a date whose run is in progress; with the broker down, starts nothing and raises
    `CobDispatchError` (a run whose tasks cannot be sent would only fail). Dispatches after
    commit; returns the run.
    """
    eager = _eager()
    if not eager and not broker_reachable():
        raise CobDispatchError(
            "The task broker (Redis) cannot be reached: close of business was not started and "
            "nothing was closed. Start it again once the broker is back."
        )
    with transaction.atomic():
        row = business_date_lock()
        current = row.business_date if row is not None else business_date_get()
        day = business_date or current
        existing = cob_run_lock_for_date(business_date=day)
        if existing is not None and existing.status == CobRun.Status.SUCCEEDED:
            raise CobAlreadyClosed(
                f"{day.isoformat()} is already closed (run {existing.pk}).",
                extra={"run": existing.pk},
            )
        if day != current:
            raise CobRunConflict(
                f"The business date is {current.isoformat()}; close of business runs for it "
                f"only (run_cob --date {day.isoformat()} closes every day up to it).",
                code="cob_wrong_date",
            )
        if existing is not None and existing.status == CobRun.Status.RUNNING:
            beat = existing.heartbeat_at or existing.started_at
            if (_now() - beat).total_seconds() < config.stale_seconds():
                raise CobRunConflict(
                    f"Close of business for {day.isoformat()} is already running "
                    f"(run {existing.pk}).",
                    extra={"run": existing.pk},
                )
        user = acting_user if getattr(acting_user, "pk", None) else None
        if existing is None:
            run = CobRun.objects.create(
                business_date=day,
                trigger=trigger,
                mode="eager" if eager else "celery",
                started_by=user,
                started_at=_now(),
                heartbeat_at=_now(),
            )
            _plan(run)
            run.save(update_fields=["partitions_total", "loans_total"])
        else:  # resume: the partitions not done run again; done ones are no-ops
            run = existing
            run.attempts += 1
            run.error = ""
            run.finished_at = None
            run.heartbeat_at = _now()
            run.mode = "eager" if eager else "celery"
            _run_status(
                run,
                CobRun.Status.RUNNING,
                fields=["attempts", "error", "finished_at", "heartbeat_at", "mode"],
                acting_user=acting_user,
                reason=f"Resumed ({trigger})",
            )
            CobPartition.objects.filter(run=run, status=CobPartition.Status.FAILED).update(
                status=CobPartition.Status.PENDING
            )
    if eager:
        cob_run_execute_inline(run.pk)
    else:
        try:
            _dispatch(run)
        except Exception as error:
            cob_run_mark_failed(
                run_id=run.pk,
                error=f"Could not dispatch the run's tasks (broker down?): {error}",
            )
            raise CobDispatchError(str(error)) from error
    run.refresh_from_db()
    return run


def _eager() -> bool:
    return tasks_eager()


def _dispatch(run: CobRun) -> None:
    options = {}
    queue = config.task_queue()
    if queue:
        options["queue"] = queue
    pending = list(
        CobPartition.objects.filter(run=run)
        .exclude(status=CobPartition.Status.DONE)
        .values_list("pk", flat=True)
    )
    header = [task_signature(effects.COB_PARTITION, run.pk, pk, **options) for pk in pending]
    chord_send(header, task_signature(effects.COB_CLOSE, run.pk, **options))


def cob_run_execute_inline(run_id: int) -> CobRun:
    for pk in (
        CobPartition.objects.filter(run_id=run_id)
        .exclude(status=CobPartition.Status.DONE)
        .values_list("pk", flat=True)
    ):
        cob_partition_process(run_id=run_id, partition_id=pk)
    return cob_run_close(run_id=run_id)


# --------------------------------------------------------------------------- partitions


def cob_partition_process(*, run_id: int, partition_id: int) -> str:
    """One partition: the borrowers' one-time rail payments and autopay (their own
    transactions), then every other step and the `done` marker in one transaction. When the
    payment steps fail (a database connection lost mid-way, say) nothing is closed: the
    partition fails and a resumed run does them again (each debit posts once, see
    `servicing.cob.autopay`); closing the loans without them would leave debited money
    unposted for good. On an error of the close the partition's loans are closed one by
    one so that one bad loan does not hold up the rest; each failure is recorded."""
    part = CobPartition.objects.select_related("run").get(pk=partition_id)
    if part.status == CobPartition.Status.DONE:
        return part.status
    day = part.run.business_date
    CobPartition.objects.filter(pk=part.pk).update(attempts=F("attempts") + 1)
    clock = StepClock()
    started = time.perf_counter()
    try:
        # The borrowers' one-time payments: sent to the rail, settled ones posted.
        rail = rail_payments_process(lo=part.lo_id, hi=part.hi_id, on=day)
        clock.record("rail_payments", sum(rail.values()), started)
        clock.record("rail_payments_returned", rail["returned"], None)
        autopay_started = time.perf_counter()
        settled = autopay_settle(lo=part.lo_id, hi=part.hi_id, on=day)
        posted = autopay_collect(lo=part.lo_id, hi=part.hi_id, on=day)
        clock.record("autopay", posted + settled["settled"] + settled["returned"], autopay_started)
        clock.record("autopay_returned", settled["returned"], None)
    except Exception as error:
        log.exception("COB partition %s of run %s: the payment steps failed", part.number, run_id)
        return _partition_payments_failed(part, clock, error)
    try:
        with transaction.atomic():
            locked = cob_partition_lock(partition_id=part.pk)
            if locked.status == CobPartition.Status.DONE:
                return locked.status
            closed = close_range(lo=part.lo_id, hi=part.hi_id, business_date=day, clock=clock)
            # What the COMMIT would check, here where the clock sees it: the ledger (every
            # entry balances) and the foreign keys of the night's rows (tens of ms a partition)
            checked = time.perf_counter()
            clock.record("ledger_check", int(journal_checks_now()), checked)
            checked = time.perf_counter()
            clock.record("foreign_key_checks", int(deferred_checks_now()), checked)
            _partition_done(part, closed, clock, started)
        return CobPartition.Status.DONE
    except Exception as error:  # isolate the bad loans, record them, go on
        log.exception("COB partition %s of run %s failed", part.number, run_id)
        return _partition_isolate(part, day, clock, started, error)


def _partition_payments_failed(part: CobPartition, clock: StepClock, error: Exception) -> str:
    reason = "".join(traceback.format_exception_only(type(error), error)).strip()
    CobPartition.objects.filter(pk=part.pk).update(
        status=CobPartition.Status.FAILED,
        steps=clock.stats,
        error=(
            "The rail payments or autopay step failed; no loan of this partition was closed. "
            f"Run close of business again to finish the day. {reason}"
        )[:2000],
    )
    CobRun.objects.filter(pk=part.run_id).update(heartbeat_at=_now())
    return CobPartition.Status.FAILED


def _partition_done(part: CobPartition, closed: int, clock: StepClock, started: float) -> None:
    clock.record("close", closed, None)
    CobPartition.objects.filter(pk=part.pk).update(
        status=CobPartition.Status.DONE,
        loans=closed,
        steps=clock.stats | {"total_seconds": time.perf_counter() - started},
        error="",
        finished_at=_now(),
    )
    CobRun.objects.filter(pk=part.run_id).update(
        partitions_done=F("partitions_done") + 1,
        loans_done=F("loans_done") + closed,
        heartbeat_at=_now(),
    )


def _partition_isolate(part, day, clock, started, error) -> str:
    ids = list(
        Loan.objects.filter(pk__gte=part.lo_id, pk__lte=part.hi_id, disbursed_on__lte=day)
        .filter(Q(last_closed_on__lt=day) | Q(last_closed_on__isnull=True))
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    failed = 0
    closed = 0
    for loan_id in ids:
        try:
            with transaction.atomic():
                closed += close_range(lo=loan_id, hi=loan_id, business_date=day, clock=clock)
        except Exception as loan_error:
            failed += 1
            CobLoanFailure.objects.update_or_create(
                run_id=part.run_id,
                loan_id=loan_id,
                defaults={
                    "error": f"{type(loan_error).__name__}: {loan_error}"[:2000],
                    "resolved": False,
                },
            )
    if failed:
        CobPartition.objects.filter(pk=part.pk).update(
            status=CobPartition.Status.FAILED,
            loans=closed,
            steps=clock.stats,
            error="".join(traceback.format_exception_only(type(error), error))[:2000],
        )
        CobRun.objects.filter(pk=part.run_id).update(
            loans_done=F("loans_done") + closed, heartbeat_at=_now()
        )
        return CobPartition.Status.FAILED
    with transaction.atomic():
        _partition_done(part, closed, clock, started)
    return CobPartition.Status.DONE


# --------------------------------------------------------------------------- close


def cob_run_close(*, run_id: int) -> CobRun:
    """Step 9: when every partition is done, advance the business date to D + 1 and write
    the run record (per-step counts and seconds summed over partitions). Idempotent."""
    side_by_side = side_by_side_possible()  # before this transaction: is everything committed?
    with transaction.atomic():
        run = cob_run_lock(run_id=run_id)
        if run.status == CobRun.Status.SUCCEEDED:
            return run
        parts = list(CobPartition.objects.filter(run=run))
        clock = StepClock()
        for part in parts:
            clock.merge({k: v for k, v in part.steps.items() if isinstance(v, dict)})
        run.steps = clock.stats
        run.partitions_done = sum(1 for p in parts if p.status == CobPartition.Status.DONE)
        CobLoanFailure.objects.filter(run=run, loan__last_closed_on__gte=run.business_date).update(
            resolved=True
        )
        unresolved = CobLoanFailure.objects.filter(run=run, resolved=False).count()
        not_done = len(parts) - run.partitions_done
        run.finished_at = _now()
        run.heartbeat_at = run.finished_at
        if not_done or unresolved:
            run.error = (
                f"{not_done} partition(s) not done, {unresolved} loan(s) failed; "
                "the business date was not advanced. Retry to finish the day."
            )
            _run_status(run, CobRun.Status.FAILED, fields=CLOSE_FIELDS, reason=run.error)
            return run
        day = run.business_date
        # The night's large reads, side by side when every row they read is committed (a
        # worker's close; not a test's or an eager run's): the book as the night left it, for
        # the reports' trends, and the day's journal lines summed in two ranges of entries.
        started = time.perf_counter()
        reads: list[Callable[[], Any]] = [
            partial(portfolio_snapshot_cells, day),
            *ledger_row_reads((day, day), chunks=2),
        ]
        snapshot_cells, *ledger_rows = reads_side_by_side(reads, committed=side_by_side)
        clock.record("close_reads", 1 + len(ledger_rows), started)
        started = time.perf_counter()
        clock.record("snapshot", portfolio_snapshot_write(day, snapshot_cells), started)
        # the day's journal lines and payments summed (the ledger reports read these for
        # closed days): no line of the day can be added once the business date moves on
        started = time.perf_counter()
        written = daily_totals_write(
            day, source="cob", ledger_rows=[row for rows in ledger_rows for row in rows]
        )
        clock.record("daily_totals", written, started)
        # on a month's last day, each loan as it stands (one INSERT ... SELECT) and the
        # roll-rate and vintage cells derived from it
        if is_month_end(run.business_date):
            started = time.perf_counter()
            clock.record("month_end", month_end_write(run.business_date), started)
        run.steps = clock.stats
        # the run's end is after the close's reads and writes, not before them
        run.finished_at = _now()
        run.heartbeat_at = run.finished_at
        row = business_date_lock()
        if row is not None and row.business_date == run.business_date:
            row.business_date = run.business_date + ONE_DAY
            row.save(update_fields=["business_date", "updated_at"])
        run.error = ""
        _run_status(run, CobRun.Status.SUCCEEDED, fields=CLOSE_FIELDS, reason="Closed")
        event_emit(
            type="cob.completed",
            data={
                "run_id": run.pk,
                "business_date": run.business_date,
                "next_business_date": run.business_date + ONE_DAY,
                "partitions": run.partitions_done,
            },
        )
    return run


def cob_run_mark_failed(*, run_id: int, error: str) -> None:
    """Mark a run that is still running failed (a timeout, a broker down)."""
    with transaction.atomic():
        run = cob_run_lock(run_id=run_id)
        if run.status != CobRun.Status.RUNNING:
            return
        run.error = error
        run.finished_at = _now()
        _run_status(run, CobRun.Status.FAILED, fields=["error", "finished_at"], reason=error)


# What closing a run writes besides its status.
CLOSE_FIELDS = ("steps", "partitions_done", "finished_at", "heartbeat_at", "error")


def _run_status(run: CobRun, to: str, *, fields, acting_user=None, reason: str = "") -> None:
    """Save the run's `fields` and move it to `to` through `transition()` (the event row);
    a run already `to` (a stale run resumed, a failed run failing again) only saves."""
    if run.status == to:
        run.save(update_fields=list(fields))
        return
    transition(run, to=to, acting_user=acting_user, reason=reason, update_fields=fields)


def cob_run_wait(*, run_id: int, timeout: float | None = None, poll: float = 0.25) -> CobRun:
    """Wait for a dispatched run to finish; on timeout mark it failed (loudly) and return."""
    deadline = time.monotonic() + (
        timeout if timeout is not None else config.wait_timeout_seconds()
    )
    while True:
        run = CobRun.objects.get(pk=run_id)
        if run.status != CobRun.Status.RUNNING:
            return run
        if time.monotonic() > deadline:
            cob_run_mark_failed(
                run_id=run_id,
                error="No worker finished the run in time (worker down?); nothing more was "
                "closed. Run it again to finish the day.",
            )
            return CobRun.objects.get(pk=run_id)
        time.sleep(poll)


def cob_close_through(
    *, through: date, acting_user=None, trigger: str = "command", wait_timeout: float | None = None
) -> list[tuple[date, str, CobRun | None]]:
    """Close every unclosed day from the current business date through `through`, in order.
    Returns (day, outcome, run) with outcome "closed", "already closed" or "failed"."""
    results: list[tuple[date, str, CobRun | None]] = []
    current = business_date_get()
    if through < current:
        run = CobRun.objects.filter(business_date=through).first()
        results.append((through, "already closed", run))
        return results
    day = current
    while day <= through:
        try:
            run = cob_run_start(business_date=day, acting_user=acting_user, trigger=trigger)
        except CobAlreadyClosed:
            results.append(
                (day, "already closed", CobRun.objects.filter(business_date=day).first())
            )
            day += ONE_DAY
            continue
        if run.status == CobRun.Status.RUNNING:
            run = cob_run_wait(run_id=run.pk, timeout=wait_timeout)
        if run.status != CobRun.Status.SUCCEEDED:
            results.append((day, "failed", run))
            return results
        results.append((day, "closed", run))
        day += ONE_DAY
    return results
