"""A collector's contacts: log one, schedule the next, open and resolve a dispute. Every
outbound contact and every follow-up is first put to `collections_app.contact_rules`
(Regulation F / FDCPA); a refusal is a 409 and changes nothing. Each write is a line of the
case's history (CaseEvent)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from collections_app import contact_rules
from collections_app.errors import (
    CaseClosed,
    CasePermissionDenied,
    CollectionsValidationError,
    ContactRefused,
    DisputeConflict,
)
from collections_app.lock_objects import case_lock
from collections_app.models import CaseEvent, CollectionCase, Contact
from collections_app.selectors import contact_profile, recent_calls
from lendcore.accounts.roles import Action, perm

NOTES_MAX = 2000
# a contact logged a little ahead of the server's clock is a clock skew, not the future
CLOCK_SKEW = timedelta(minutes=5)


def work_permission_require(acting_user) -> None:
    if acting_user is None or not acting_user.has_perm(perm(Action.WORK_COLLECTIONS)):
        raise CasePermissionDenied(
            f"This action needs a staff role with: {Action.WORK_COLLECTIONS}"
        )


def _actor(acting_user):
    return acting_user if getattr(acting_user, "pk", None) else None


def _choice(name: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        raise CollectionsValidationError.field(name, f"Choose one of: {', '.join(choices)}.")
    return value


def _open_case_locked(case: CollectionCase, what: str) -> CollectionCase:
    locked = case_lock(case_id=case.pk)
    if not locked.is_open():
        raise CaseClosed(f"Case {locked.pk} is {locked.status}: {what} only on an open case.")
    return locked


def outbound_check(
    *, case: CollectionCase, channel: str, at: datetime, scheduling: bool = False
) -> None:
    """Raise ContactRefused if contact_rules refuse an outbound `channel` contact at `at`."""
    profile = contact_profile(borrower_id=case.loan.borrower_id)
    refusal = contact_rules.outbound_refusal(
        channel=channel,
        at=at,
        time_zone=profile.time_zone,
        recent_calls=recent_calls(loan_id=case.loan_id, up_to=at) if channel == "call" else (),
        cease_communication=profile.cease_communication,
        opted_out=profile.opted_out(channel),
        scheduling=scheduling,
    )
    if refusal is not None:
        raise ContactRefused(refusal.message, extra={"rule": refusal.code})


def _dispute_open(case: CollectionCase, *, on: date, acting_user, note: str) -> None:
    """Mark the (locked) case disputed, if it is not already."""
    if case.disputed:
        return
    case.disputed = True
    case.disputed_on = on
    case.save(update_fields=["disputed", "disputed_on"])
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.DISPUTE_OPENED,
        actor=_actor(acting_user),
        business_date=on,
        at=timezone.now(),
        data={"note": note[:500]},
    )


def contact_log(
    *,
    case: CollectionCase,
    channel: str,
    direction: str,
    outcome: str,
    notes: str = "",
    at: datetime | None = None,
    acting_user,
    on: date,
) -> Contact:
    """Log a contact with the borrower (`at`: when it happened, default now). An outbound
    one must pass Regulation F (409 otherwise). Outcome `dispute` opens a dispute."""
    work_permission_require(acting_user)
    _choice("channel", channel, Contact.Channel.values)
    _choice("direction", direction, Contact.Direction.values)
    _choice("outcome", outcome, Contact.Outcome.values)
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise CollectionsValidationError.field("notes", f"At most {NOTES_MAX} characters.")
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        raise CollectionsValidationError.field("at", "Give the time with its offset.")
    if at > now + CLOCK_SKEW:
        raise CollectionsValidationError.field("at", "A contact is logged after it happened.")
    with transaction.atomic():
        locked = _open_case_locked(case, "contacts are logged")
        locked.loan = case.loan  # the lock reads the row alone
        if direction == Contact.Direction.OUTBOUND:
            outbound_check(case=locked, channel=channel, at=at)
        contact = Contact.objects.create(
            case=locked,
            loan_id=locked.loan_id,
            channel=channel,
            direction=direction,
            outcome=outcome,
            notes=notes,
            at=at,
            actor=_actor(acting_user),
            business_date=on,
        )
        CaseEvent.objects.create(
            case=locked,
            kind=CaseEvent.Kind.CONTACT,
            actor=_actor(acting_user),
            business_date=on,
            at=now,
            data={
                "contact": contact.pk,
                "channel": channel,
                "direction": direction,
                "outcome": outcome,
            },
        )
        if outcome == Contact.Outcome.DISPUTE:
            _dispute_open(locked, on=on, acting_user=acting_user, note=notes)
    return contact


def follow_up_schedule(
    *,
    case: CollectionCase,
    at: datetime,
    channel: str,
    note: str = "",
    acting_user,
    on: date,
) -> CollectionCase:
    """Plan the case's next contact (replaces the previous plan): in the future, and allowed
    by Regulation F at that time (409 otherwise)."""
    work_permission_require(acting_user)
    _choice("channel", channel, Contact.Channel.values)
    note = (note or "").strip()
    if len(note) > 500:
        raise CollectionsValidationError.field("note", "At most 500 characters.")
    if at is None or timezone.is_naive(at):
        raise CollectionsValidationError.field("at", "Give the date and time with its offset.")
    if at <= timezone.now():
        raise CollectionsValidationError.field("at", "A follow-up is scheduled in the future.")
    with transaction.atomic():
        locked = _open_case_locked(case, "follow-ups are scheduled")
        locked.loan = case.loan
        outbound_check(case=locked, channel=channel, at=at, scheduling=True)
        locked.follow_up_at = at
        locked.follow_up_channel = channel
        locked.follow_up_note = note
        locked.save(update_fields=["follow_up_at", "follow_up_channel", "follow_up_note"])
        CaseEvent.objects.create(
            case=locked,
            kind=CaseEvent.Kind.FOLLOW_UP,
            actor=_actor(acting_user),
            business_date=on,
            at=timezone.now(),
            data={"at": at.isoformat(), "channel": channel, "note": note},
        )
    return locked


def dispute_mark(*, case: CollectionCase, note: str, acting_user, on: date) -> CollectionCase:
    """The borrower disputes the debt (told otherwise than in a logged contact): dunning
    pauses until it is resolved. Idempotent on an already disputed case."""
    work_permission_require(acting_user)
    note = (note or "").strip()
    if not note:
        raise CollectionsValidationError.field("note", "Say what the borrower disputes.")
    with transaction.atomic():
        locked = _open_case_locked(case, "disputes are recorded")
        _dispute_open(locked, on=on, acting_user=acting_user, note=note)
    return locked


def dispute_resolve(*, case: CollectionCase, note: str, acting_user, on: date) -> CollectionCase:
    """Close the case's open dispute (after verification was sent, say): dunning resumes at
    the next close of business. 409 when no dispute is open."""
    work_permission_require(acting_user)
    note = (note or "").strip()
    if not note:
        raise CollectionsValidationError.field("note", "Say how the dispute was resolved.")
    if len(note) > 500:
        raise CollectionsValidationError.field("note", "At most 500 characters.")
    with transaction.atomic():
        locked = case_lock(case_id=case.pk)
        if not locked.disputed:
            raise DisputeConflict(f"Case {locked.pk} has no open dispute to resolve.")
        opened = locked.disputed_on
        locked.disputed = False
        locked.disputed_on = None
        locked.save(update_fields=["disputed", "disputed_on"])
        CaseEvent.objects.create(
            case=locked,
            kind=CaseEvent.Kind.DISPUTE_RESOLVED,
            actor=_actor(acting_user),
            business_date=on,
            at=timezone.now(),
            data={"note": note, "opened_on": opened.isoformat() if opened else None},
        )
    return locked
