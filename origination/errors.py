"""Origination's errors: the shared family with this app's codes."""

from __future__ import annotations

from enum import StrEnum

from lendcore.errors import (
    ApplicationError,
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    UpstreamUnavailable,
    ValidationFailed,
)

__all__ = [
    "ApplicationError",
    "BureauUnavailable",
    "Conflict",
    "DocumentFileMissing",
    "ErrorCode",
    "FourEyesViolation",
    "IdentityUnavailable",
    "InvalidTransition",
    "MissingDocuments",
    "NotFound",
    "OfferExpired",
    "PermissionDenied",
    "SelfApproval",
    "ValidationFailed",
]


class ErrorCode(StrEnum):
    INVALID_TRANSITION = "invalid_transition"
    MISSING_DOCUMENTS = "missing_documents"
    DOCUMENT_INVALID = "document_invalid"
    SELF_APPROVAL = "self_approval"
    FOUR_EYES = "four_eyes_same_underwriter"
    OFFER_EXPIRED = "offer_expired"
    BUREAU_UNAVAILABLE = "bureau_unavailable"
    IDENTITY_UNAVAILABLE = "identity_unavailable"
    NO_ACTIVE_RULE_SET = "no_active_rule_set"
    PRODUCT_INACTIVE = "product_inactive"
    INVITATION_PENDING = "borrower_invitation_pending"
    INVITATION_CLOSED = "borrower_invitation_closed"
    NO_VERIFIED_EMAIL = "borrower_no_verified_email"
    ACCEPT_ON_BEHALF = "accept_on_behalf_not_allowed"
    ACCOUNT_MISSING = "disbursement_account_missing"
    ACCOUNT_MISMATCH = "disbursement_account_mismatch"
    ACCOUNT_LOCKED = "disbursement_account_locked"
    DOCUMENT_FILE_MISSING = "document_file_missing"


class MissingDocuments(Conflict):
    """Submitting before the required documents are in: the request is well formed, the
    application's state does not allow it yet (409)."""

    default_code = ErrorCode.MISSING_DOCUMENTS


class DocumentFileMissing(NotFound):
    """The document's row is there but its bytes are not in storage (logged as an error)."""

    default_code = ErrorCode.DOCUMENT_FILE_MISSING


class SelfApproval(Conflict):
    default_code = ErrorCode.SELF_APPROVAL


class FourEyesViolation(Conflict):
    default_code = ErrorCode.FOUR_EYES


class OfferExpired(Conflict):
    default_code = ErrorCode.OFFER_EXPIRED


class BureauUnavailable(UpstreamUnavailable):
    default_code = ErrorCode.BUREAU_UNAVAILABLE


class IdentityUnavailable(UpstreamUnavailable):
    default_code = ErrorCode.IDENTITY_UNAVAILABLE
