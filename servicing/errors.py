"""Servicing's errors: each names its rule with a stable code."""

from __future__ import annotations

from enum import StrEnum

from lendcore.errors import Conflict, InvalidTransition, NotFound, ValidationFailed


class ErrorCode(StrEnum):
    LOAN_NOT_FOUND = "loan_not_found"
    PAYMENT_NOT_FOUND = "payment_not_found"
    FEE_NOT_FOUND = "fee_not_found"
    STATEMENT_NOT_FOUND = "statement_not_found"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_DATE = "invalid_date"
    LOAN_CLOSED = "loan_closed"
    LOAN_CHARGED_OFF = "loan_charged_off"
    ALREADY_REVERSED = "already_reversed"
    WAIVER_TOO_LARGE = "waiver_too_large"
    INVALID_MODIFICATION = "invalid_modification"
    FOUR_EYES = "four_eyes_required"
    INVALID_TRANSITION = "invalid_transition"
    BOARDING_MISMATCH = "boarding_mismatch"
    NOTHING_TO_REFUND = "nothing_to_refund"
    BUSINESS_DATE_CLOSED = "business_date_closed"
    BORROWER_PAYMENT = "borrower_payment_through_rail"
    PAYMENT_REQUEST_NOT_FOUND = "payment_request_not_found"
    PAYMENT_REQUEST_NOT_CANCELLABLE = "payment_request_not_cancellable"
    AUTOPAY_NOT_ENROLLED = "autopay_not_enrolled"


class ServicingValidationError(ValidationFailed):
    """Bad input (400): names the field and the rule under `extra.fields`."""

    @classmethod
    def field(cls, name: str, message: str, *, code: str = "invalid") -> ServicingValidationError:
        return cls(message, code=code, extra={"fields": {name: [message]}})


class LoanNotFound(NotFound):
    default_code = ErrorCode.LOAN_NOT_FOUND


class ServicingNotFound(NotFound):
    default_code = "not_found"


class LoanStateConflict(InvalidTransition):
    """The action is not allowed in the loan's (or the payment's) current state (409)."""


class ServicingConflict(Conflict):
    pass
