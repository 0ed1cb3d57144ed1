"""A borrower's contact preferences: time zone, opt-outs per channel, cease-communication.
Set by the borrower in the portal (or by staff recording a written request)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from collections_app import contact_rules
from collections_app.errors import CasePermissionDenied, CollectionsValidationError
from collections_app.lock_objects import preference_lock
from collections_app.models import ContactPreference
from lendcore.accounts.models import Borrower
from lendcore.accounts.roles import Action, perm


def contact_preferences_set(
    *,
    borrower: Borrower,
    time_zone: str,
    call_opt_out: bool,
    email_opt_out: bool,
    sms_opt_out: bool,
    letter_opt_out: bool,
    cease_communication: bool,
    acting_user,
) -> ContactPreference:
    """The borrower's own preferences (or staff with work_collections recording them).
    The e-mail and SMS opt-outs are the borrower's fields that servicing's reminders read."""
    own = acting_user is not None and borrower.user_id == acting_user.pk
    if not own and not (
        acting_user is not None and acting_user.has_perm(perm(Action.WORK_COLLECTIONS))
    ):
        raise CasePermissionDenied("Only the borrower (or a collector) sets these preferences.")
    time_zone = (time_zone or "").strip()
    if not contact_rules.time_zone_valid(time_zone):
        raise CollectionsValidationError.field(
            "time_zone", "Choose an IANA time zone, such as America/Chicago."
        )
    with transaction.atomic():
        pref = preference_lock(borrower_id=borrower.pk, time_zone=time_zone)
        if cease_communication and not pref.cease_communication:
            pref.cease_communication_on = timezone.localdate()
        if not cease_communication:
            pref.cease_communication_on = None
        pref.time_zone = time_zone
        pref.call_opt_out = call_opt_out
        pref.letter_opt_out = letter_opt_out
        pref.cease_communication = cease_communication
        pref.save(
            update_fields=[
                "time_zone",
                "call_opt_out",
                "letter_opt_out",
                "cease_communication",
                "cease_communication_on",
                "updated_at",
            ]
        )
        borrower.email_opt_out = email_opt_out
        borrower.sms_opt_out = sms_opt_out
        borrower.save(update_fields=["email_opt_out", "sms_opt_out"])
    return pref
