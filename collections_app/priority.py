"""A case's priority in the queue: the pure rule, and the same rule as SQL for close of
business (pinned together by tests/collections/test_cob_cases.py and test_promises.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE = Decimal(1)
CENTS = Decimal("0.01")
PENDING_FACTOR = Decimal("0.5")  # a promise is pending: call later
BROKEN_STEP = Decimal("0.25")  # each broken promise: call sooner
BROKEN_MAX = Decimal("2")


def promise_factor(*, pending: int, broken: int) -> Decimal:
    """Lowered (x0.5) while a promise is pending; otherwise raised by 0.25 per broken
    promise of the case, up to x2."""
    if pending > 0:
        return PENDING_FACTOR
    return min(ONE + BROKEN_STEP * broken, BROKEN_MAX)


def case_priority(*, amount_past_due: Decimal, dpd: int, promise_factor: Decimal = ONE) -> Decimal:
    """Amount past due x days past due x the promise factor: the larger and older the debt,
    the sooner the call. A change here must change `priority_sql` the same way."""
    if dpd <= 0 or amount_past_due <= 0:
        return Decimal("0.00")
    return (amount_past_due * dpd * promise_factor).quantize(CENTS, rounding=ROUND_HALF_UP)


def promise_factor_sql(pending: str, broken: str) -> str:
    """`promise_factor` in SQL over the counts `pending` and `broken`."""
    return (
        f"(CASE WHEN {pending} > 0 THEN {PENDING_FACTOR} "
        f"WHEN {broken} >= 4 THEN {BROKEN_MAX} ELSE 1 + {BROKEN_STEP} * {broken} END)"
    )


def priority_sql(amount: str, dpd: str, factor: str = "1") -> str:
    """`case_priority` in SQL over the columns `amount` and `dpd` and the factor `factor`."""
    return (
        f"CASE WHEN {dpd} > 0 AND {amount} > 0 "
        f"THEN ROUND({amount} * {dpd} * {factor}, 2) ELSE 0 END"
    )
