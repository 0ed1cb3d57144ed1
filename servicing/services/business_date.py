"""The lender's business date."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from servicing.errors import ErrorCode, LoanStateConflict, ServicingValidationError
from servicing.lock_objects import business_date_lock
from servicing.models import (
    BusinessDate,
    CobRun,
)
from servicing.selectors import (
    business_date_get,
    business_date_max_jump_days,
)
from servicing.validation import actor as _actor

# --------------------------------------------------------------------------- business date


@transaction.atomic
def business_date_set(*, business_date: date, acting_user) -> BusinessDate:
    """Set the lender's business date (admins; close of business advances it nightly).

    Never back into a closed day: payments would then post into books already closed (409).
    """
    row = business_date_lock()
    current = row.business_date if row is not None else business_date_get()
    jump = business_date_max_jump_days()
    if business_date > current + timedelta(days=jump):
        # close of business moves it a day at a time; a jump of centuries only makes every
        # loan's figures project interest across them
        raise ServicingValidationError.field(
            "business_date",
            f"At most {jump} days after the current business date ({current.isoformat()}).",
            code=ErrorCode.INVALID_DATE,
        )
    closed = (
        CobRun.objects.filter(status=CobRun.Status.SUCCEEDED)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )
    if closed is not None and business_date <= closed:
        raise LoanStateConflict(
            f"{business_date.isoformat()} is closed (close of business ran through "
            f"{closed.isoformat()}); the business date can only move to a later day.",
            code=ErrorCode.BUSINESS_DATE_CLOSED,
            extra={"fields": {"business_date": [f"Must be after {closed.isoformat()}."]}},
        )
    if row is None:
        row = BusinessDate(pk=1, business_date=business_date, updated_by=_actor(acting_user))
        row.save(force_insert=True)
        return row
    row.business_date = business_date
    row.updated_by = _actor(acting_user)
    row.save(update_fields=["business_date", "updated_by", "updated_at"])
    return row
