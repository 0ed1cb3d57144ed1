"""Close a range of loans up to a business date, day by day, in the caller's transaction.

Used by a partition of a close-of-business run (`runner`) and by the inline catch-up of one
lagging loan before a write (`catch_up`); it knows nothing of runs, rails or autopay.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

from django.db.models import Min

from servicing.lock_objects import loan_range_lock
from servicing.models import Loan

from .steps import Scope, StepClock, close_day

ONE_DAY = timedelta(days=1)


def _test_pause(step: str) -> None:
    """Test-only: COB_TEST_PAUSE="seconds" sleeps inside the partition transaction after
    accrual (so a test can kill the worker mid-partition); COB_TEST_PID_FILE gets the pid."""
    pause = os.environ.get("COB_TEST_PAUSE")
    if not pause:
        return
    pid_file = os.environ.get("COB_TEST_PID_FILE")
    if pid_file:
        with open(pid_file, "a") as handle:
            handle.write(f"{os.getpid()}\n")
    time.sleep(float(pause))


def close_range(
    *, lo: int, hi: int, business_date: date, clock: StepClock, lock: bool = True
) -> int:
    """Close loans [lo, hi] up to and including `business_date` (each lagging day first, in
    order), in the caller's transaction. Returns loans closed on `business_date`."""
    if lock:
        loan_range_lock(lo=lo, hi=hi)
    never = business_date - ONE_DAY
    lagging = Loan.objects.filter(pk__gte=lo, pk__lte=hi, last_closed_on__lt=never).aggregate(
        m=Min("last_closed_on")
    )["m"]
    day = (lagging + ONE_DAY) if lagging is not None else business_date
    closed = 0
    while day <= business_date:
        closed = close_day(Scope(lo=lo, hi=hi, day=day, business_date=business_date), clock)
        if day == business_date:
            _test_pause("accrual")
        day += ONE_DAY
    return closed
