"""A case's priority in the queue: the pure rule, and the same rule as SQL for close of
business (pinned together by tests/collections/test_cob_cases.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE = Decimal(1)
CENTS = Decimal("0.01")


def case_priority(*, amount_past_due: Decimal, dpd: int, promise_factor: Decimal = ONE) -> Decimal:
    """Amount past due x days past due: the larger and older the debt, the sooner the call.

    `promise_factor` is the hook for promises to pay (a later slice of issue 11): above 1
    after a broken promise, below 1 while a promise is pending. Close of business passes 1
    today; a change here must change `PRIORITY_SQL` the same way."""
    if dpd <= 0 or amount_past_due <= 0:
        return Decimal("0.00")
    return (amount_past_due * dpd * promise_factor).quantize(CENTS, rounding=ROUND_HALF_UP)


def priority_sql(amount: str, dpd: str) -> str:
    """`case_priority` in SQL over the columns `amount` and `dpd` (promise factor 1)."""
    return f"CASE WHEN {dpd} > 0 AND {amount} > 0 THEN ROUND({amount} * {dpd}, 2) ELSE 0 END"
