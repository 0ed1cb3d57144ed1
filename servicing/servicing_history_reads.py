"""Reads of what close of business recorded about a loan and the borrower's autopay: the
delinquency bucket history, the reminders queued and sent, the autopay enrolments and the
autopay debits. The staff loan page shows the latest rows of each (one query each, however
long the history); its "all" pages page through the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from .models import AutopayEnrolment, DelinquencyHistory, Loan, Notification, RailTransfer

RECENT = 10  # rows of each history on the loan page


@dataclass(frozen=True)
class Recent:
    """The latest rows of a list, and whether older ones exist (read as one more row)."""

    rows: list[Any]
    more: bool


def _recent(qs: QuerySet, limit: int) -> Recent:
    rows = list(qs[: limit + 1])
    return Recent(rows=rows[:limit], more=len(rows) > limit)


def loan_delinquency_history(*, loan: Loan) -> QuerySet[DelinquencyHistory]:
    """The loan's bucket moves, newest first."""
    return DelinquencyHistory.objects.filter(loan=loan).order_by("-business_date", "-id")


def loan_notices(*, loan: Loan) -> QuerySet[Notification]:
    """The reminders queued for the loan (sent, failed or still queued), newest first."""
    return Notification.objects.filter(loan=loan).order_by("-business_date", "-id")


def loan_autopay_enrolments(*, loan: Loan) -> QuerySet[AutopayEnrolment]:
    """Every enrolment of the loan, the active one (if any) first, then newest first."""
    return (
        AutopayEnrolment.objects.filter(loan=loan)
        .select_related("created_by")
        .order_by("-active", "-created_at", "-id")
    )


def loan_autopay_active(*, loan: Loan) -> AutopayEnrolment | None:
    return AutopayEnrolment.objects.filter(loan=loan, active=True).first()


def loan_autopay_debits(*, loan: Loan) -> QuerySet[RailTransfer]:
    """The autopay debits of the loan (with the installment each paid), newest first."""
    return (
        RailTransfer.objects.filter(loan=loan, kind=RailTransfer.Kind.AUTOPAY)
        .select_related("installment")
        .order_by("-business_date", "-id")
    )


def loan_servicing_history(*, loan: Loan, limit: int = RECENT) -> dict[str, Any]:
    """The loan page's panels: four queries whatever the history's length."""
    enrolments = _recent(loan_autopay_enrolments(loan=loan), limit)
    active = next((e for e in enrolments.rows if e.active), None)
    return {
        "delinquency": _recent(loan_delinquency_history(loan=loan), limit),
        "notices": _recent(loan_notices(loan=loan), limit),
        "autopay_active": active,
        "autopay_earlier": Recent(
            rows=[e for e in enrolments.rows if not e.active], more=enrolments.more
        ),
        "autopay_debits": _recent(loan_autopay_debits(loan=loan), limit),
    }
