"""Collections' errors (the one family of lendcore.errors: 400, 403, 404, 409)."""

from __future__ import annotations

from lendcore.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)


class CollectionsValidationError(ValidationFailed):
    default_code = "collections_invalid"

    @classmethod
    def field(cls, name: str, message: str) -> CollectionsValidationError:
        return cls.for_fields({name: [message]}, message)


class CasePermissionDenied(PermissionDenied):
    default_code = "permission_denied"


class CaseNotFound(NotFound):
    default_code = "case_not_found"


class CaseClosed(Conflict):
    """The case is no longer open: nothing to assign (409)."""

    default_code = "case_closed"


class ContactRefused(Conflict):
    """Regulation F / FDCPA (collections_app.contact_rules) refuses the contact or the
    follow-up: `extra.rule` says which limit (409, nothing changed)."""

    default_code = "contact_refused"


class DisputeConflict(Conflict):
    """Resolving a dispute on a case that has none open (409)."""

    default_code = "no_open_dispute"


class WorkoutConflict(InvalidTransition):
    """A hardship plan or charge-off recommendation not allowed in its state (409)."""

    default_code = "workout_conflict"


class FourEyes(Conflict):
    """The requester (or recommender) may not decide their own plan or recommendation."""

    default_code = "four_eyes_required"


class WorkoutNotFound(NotFound):
    default_code = "not_found"
