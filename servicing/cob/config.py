"""COB settings, each read with a default (none is required)."""

from __future__ import annotations

import os

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", 0, 0),
    ("1-29", 1, 29),
    ("30-59", 30, 59),
    ("60-89", 60, 89),
    ("90-119", 90, 119),
    ("120+", 120, None),
)


def partition_size() -> int:
    # 10,000: big enough that a partition's fixed costs (a task, a transaction, a few
    # planned statements) are small beside its rows, small enough to spread a million
    # loans over many workers; what `make bench-cob` measures.
    return max(1, int(getattr(settings, "COB_PARTITION_SIZE", 10000)))


def buckets() -> tuple[tuple[str, int, int | None], ...]:
    """(code, min dpd, max dpd or None): contiguous from 0, checked here."""
    ranges = tuple(
        (str(code), int(lo), None if hi is None else int(hi))
        for code, lo, hi in getattr(settings, "COB_DELINQUENCY_BUCKETS", DEFAULT_BUCKETS)
    )
    expected = 0
    for code, lo, hi in ranges:
        if lo != expected or (hi is not None and hi < lo) or len(code) > 16:
            raise ValueError(f"COB_DELINQUENCY_BUCKETS: bad or non-contiguous range {code!r}")
        expected = (hi + 1) if hi is not None else -1
    if expected != -1:
        raise ValueError("COB_DELINQUENCY_BUCKETS: the last range must be open-ended (None)")
    return ranges


def bucket_for(dpd: int) -> str:
    for code, lo, hi in buckets():
        if dpd >= lo and (hi is None or dpd <= hi):
            return code
    return buckets()[-1][0]


def non_accrual_dpd() -> int:
    return int(getattr(settings, "COB_NON_ACCRUAL_DPD", 90))


def non_accrual_cure_dpd() -> int:
    """A non-accrual loan goes back to accrual at the close where it is at most this many
    days past due (0: current again); the interest it holds in suspense is then income."""
    return int(getattr(settings, "COB_NON_ACCRUAL_CURE_DPD", 0))


def charge_off_candidate_dpd() -> int:
    return int(getattr(settings, "COB_CHARGE_OFF_CANDIDATE_DPD", 120))


def reminder_days_before() -> int:
    return int(getattr(settings, "COB_REMINDER_DAYS_BEFORE", 5))


def overdue_reminder_days() -> tuple[int, ...]:
    return tuple(int(d) for d in getattr(settings, "COB_OVERDUE_REMINDER_DAYS", (1, 7, 15, 30)))


def reminder_channels() -> tuple[str, ...]:
    return tuple(getattr(settings, "COB_REMINDER_CHANNELS", ("email",)))


def stale_seconds() -> int:
    """A running run without a heartbeat for this long may be resumed by another start."""
    return int(getattr(settings, "COB_STALE_SECONDS", 300))


def wait_timeout_seconds() -> int:
    return int(getattr(settings, "COB_WAIT_TIMEOUT_SECONDS", 3600))


def task_queue() -> str | None:
    return getattr(settings, "COB_QUEUE", None) or os.environ.get("COB_QUEUE") or None


def task_options() -> dict:
    """apply_async options of COB's tasks (COB_QUEUE routes them to a dedicated queue)."""
    queue = task_queue()
    return {"queue": queue} if queue else {}


def aux_task_options() -> dict:
    """Follow-up tasks (sending reminders, rendering statement PDFs) go to COB_AUX_QUEUE
    (default: Celery's default queue), never the COB queue, so they do not slow the close."""
    queue = getattr(settings, "COB_AUX_QUEUE", None) or os.environ.get("COB_AUX_QUEUE") or None
    return {"queue": queue} if queue else {}


def extra_steps() -> tuple:
    """COB_EXTRA_STEPS: dotted paths of other apps' steps, `step(lo, hi, day) -> int`, run
    last in each scope's day (after days past due and buckets), in its transaction; servicing
    imports none of those apps."""
    return tuple(import_string(path) for path in getattr(settings, "COB_EXTRA_STEPS", ()))
