"""Reads of one-time payment requests (`servicing.rail_payments`): a loan's requests, one a
user may see, and the rows the API, the portal and the staff page show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from .cob.rails import ONE_TIME, PaymentRail, payment_rail
from .errors import ErrorCode, ServicingNotFound
from .loan_access import loans_visible_to
from .models import Loan, RailTransfer
from .rail_payments import IN_FLIGHT, METHOD_LABELS, Status


def loan_payment_requests(*, loan: Loan, open_only: bool = False) -> QuerySet[RailTransfer]:
    """The loan's one-time payment requests, newest first (`open_only`: not posted yet)."""
    qs = RailTransfer.objects.filter(loan_id=loan.pk, kind=ONE_TIME)
    if open_only:
        qs = qs.filter(status__in=IN_FLIGHT)
    return qs.order_by("-id")


def payment_request_get_visible(*, user, transfer_id: int) -> RailTransfer:
    """A one-time payment request of a loan `user` may see (a borrower: their own), or 404."""
    transfer = (
        RailTransfer.objects.filter(pk=transfer_id, kind=ONE_TIME, loan__in=loans_visible_to(user))
        .select_related("loan")
        .first()
    )
    if transfer is None:
        raise ServicingNotFound(
            "No such payment request.", code=ErrorCode.PAYMENT_REQUEST_NOT_FOUND
        )
    return transfer


@dataclass(frozen=True)
class PaymentRequestRow:
    """A payment request as the API, the portal and the staff page show it."""

    id: int
    loan_id: int
    amount: Decimal
    method: str
    method_label: str
    status: str
    status_label: str
    account_last4: str
    requested_on: date
    expected_settlement_date: date | None
    cancellable: bool
    payment_id: int | None
    return_code: str


def payment_request_expected_settlement(
    transfer: RailTransfer, *, today: date, rail: PaymentRail | None = None
) -> date | None:
    """When it settles: the rail's date once sent; before, the close of business that will
    send it (today's, or its own day's) plus the rail's delay. None once cancelled or failed
    before it was sent."""
    if transfer.settle_on is not None:
        return transfer.settle_on
    if transfer.status not in IN_FLIGHT:
        return None
    rail = rail or payment_rail()
    return rail.one_time_settle_on(max(transfer.business_date, today))


def payment_request_rows(
    transfers: Iterable[RailTransfer], *, today: date
) -> list[PaymentRequestRow]:
    rail = payment_rail()
    return [
        PaymentRequestRow(
            id=t.pk,
            loan_id=t.loan_id,
            amount=t.amount,
            method=t.method,
            method_label=METHOD_LABELS.get(t.method, t.get_method_display()),
            status=t.status,
            status_label=t.get_status_display(),
            account_last4=t.account_last4,
            requested_on=t.business_date,
            expected_settlement_date=payment_request_expected_settlement(t, today=today, rail=rail),
            cancellable=Status.CANCELLED in RailTransfer.TRANSITIONS.get(t.status, ()),
            payment_id=t.payment_id,
            return_code=t.return_code,
        )
        for t in transfers
    ]
