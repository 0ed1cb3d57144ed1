"""Small shared checks of servicing's services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lendcore.accounts.roles import perm
from lendcore.errors import PermissionDenied
from lendcore.finance.money import MONEY_MAX, round_money

from .errors import ErrorCode, ServicingValidationError


def actor(user):
    """The user to record as actor (None for the system: close of business, demo seeding)."""
    return user if getattr(user, "pk", None) else None


def money_validate(value, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive amount in whole cents, at most MONEY_MAX, or a 400 naming `field`."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ServicingValidationError.field(
            field, "Enter an amount such as 125.00.", code=ErrorCode.INVALID_AMOUNT
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ServicingValidationError.field(
            field, "The amount must be greater than zero.", code=ErrorCode.INVALID_AMOUNT
        )
    if amount > MONEY_MAX:
        raise ServicingValidationError.field(
            field, f"The amount must be at most {MONEY_MAX:,}.", code=ErrorCode.INVALID_AMOUNT
        )
    if amount != round_money(amount):
        raise ServicingValidationError.field(
            field,
            "The amount must be in whole cents (two decimals).",
            code=ErrorCode.INVALID_AMOUNT,
        )
    return round_money(amount)


def permission_require(acting_user, codename: str) -> None:
    """A staff action's permission, checked by the service itself (the API, the staff UI and
    the admin reach it alike); `acting_user` None is the system (close of business, demo)."""
    if acting_user is not None and not acting_user.has_perm(perm(codename)):
        raise PermissionDenied(
            f"This action needs a staff role with: {codename}", code="permission_denied"
        )
