"""Close one day of a scope: every step in order."""

from __future__ import annotations

import time

from servicing.cob import config

from .accrual import accrue_orm, accrue_sql
from .base import Scope, StepClock, is_postgres
from .delinquency import delinquency_close_orm, delinquency_close_sql
from .late_fees import late_fees
from .reminders import reminders
from .schedule import final_true_up, transitions
from .statements import statements


def close_day(scope: Scope, clock: StepClock) -> int:
    """Steps 2-9 of one day for the scope (autopay, step 1, runs before: it posts payments
    through servicing in their own transactions). Returns the loans closed."""
    started = time.perf_counter()
    count = accrue_sql(scope) if is_postgres() else accrue_orm(scope)
    clock.record("accrual", count, started)

    started = time.perf_counter()
    clock.record("true_up", final_true_up(scope), started)

    started = time.perf_counter()
    clock.record("transitions", transitions(scope), started)

    started = time.perf_counter()
    clock.record("late_fees", late_fees(scope), started)

    started = time.perf_counter()
    clock.record("reminders", reminders(scope), started)

    started = time.perf_counter()
    clock.record("statements", statements(scope), started)

    # Last: it marks the scope's loans closed (and so empties the scope).
    started = time.perf_counter()
    if is_postgres():
        closed, changed, flagged, candidates = delinquency_close_sql(scope)
    else:
        closed, changed, flagged, candidates = delinquency_close_orm(scope)
    clock.record("dpd_buckets", changed, started)
    clock.record("non_accrual", flagged, None)
    clock.record("charge_off_candidates", candidates, None)
    for step in config.extra_steps():  # other apps' steps (COB_EXTRA_STEPS), after buckets
        started = time.perf_counter()
        clock.record(step.__name__, step(scope.lo, scope.hi, scope.day), started)
    return closed
