"""Linking an application made by staff to an existing borrower, by invitation only.

Staff never attach an existing borrower to an applicant directly (issue 10, point 1: one
officer could originate and disburse in another person's name). They invite; the invitation
goes to the borrower's own verified address, and until the borrower accepts it in the
portal the application cannot be submitted nor its offer accepted."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lendcore.core.state import transition
from origination import effects, selectors
from origination.errors import Conflict, ErrorCode, NotFound
from origination.lock_objects import application_lock, invitation_lock
from origination.models import Applicant, Application, BorrowerInvitation, BorrowerInvitationEvent
from origination.services._common import audit, user_or_none

INVITATION_DAYS_DEFAULT = 14
OPEN_BEFORE_DECISION = (Application.Status.DRAFT,)


def _valid_days() -> int:
    return int(getattr(settings, "BORROWER_INVITATION_DAYS", INVITATION_DAYS_DEFAULT))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def borrower_invitation_create(
    *, applicant: Applicant, borrower: Any, acting_user: Any
) -> BorrowerInvitation:
    """Invite `borrower` to take `applicant` (and its applications) as theirs. The applicant's
    contact address becomes the borrower's verified one, whatever staff typed."""
    email = selectors.borrower_verified_email(borrower)
    if email is None:
        raise Conflict(
            "This borrower has no portal login with a verified e-mail address, so they cannot "
            "be invited; ask them to sign up in the portal first.",
            code=ErrorCode.NO_VERIFIED_EMAIL,
            extra={"fields": {"borrower": ["This borrower has no verified e-mail address."]}},
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        applicant.email = email
        applicant.save(update_fields=["email"])
        invitation = BorrowerInvitation.objects.create(
            applicant=applicant,
            borrower=borrower,
            email=email,
            token_hash=token_hash(token),
            expires_at=timezone.now() + timedelta(days=_valid_days()),
            created_by=user_or_none(acting_user),
        )
        BorrowerInvitationEvent.objects.create(
            invitation=invitation,
            actor=user_or_none(acting_user),
            from_status="",
            to_status=BorrowerInvitation.Status.PENDING,
            reason="invited by staff",
        )
        audit(
            action="borrower_invited",
            acting_user=acting_user,
            applicant=applicant,
            borrower=borrower.pk,
            invitation=invitation.pk,
        )
        effects.invitation_on_commit(invitation.pk, token)
    return invitation


def _decidable(invitation_id: int, acting_user: Any) -> BorrowerInvitation:
    """The locked invitation if `acting_user` is its borrower and it is still pending."""
    invitation = invitation_lock(invitation_id=invitation_id)
    if invitation.borrower.user_id is None or invitation.borrower.user_id != acting_user.pk:
        raise NotFound("Invitation not found.")
    if invitation.status != BorrowerInvitation.Status.PENDING:
        raise Conflict(
            f"This invitation is already {invitation.status}.",
            code=ErrorCode.INVITATION_CLOSED,
        )
    return invitation


def _expire_if_due(invitation: BorrowerInvitation, acting_user: Any) -> None:
    if invitation.is_pending() and invitation.expires_at <= timezone.now():
        with transaction.atomic():
            locked = invitation_lock(invitation_id=invitation.pk)
            if locked.is_pending():
                transition(locked, to="expired", acting_user=acting_user, reason="not answered")
        raise Conflict(
            "This invitation has expired; ask the loan officer for a new one.",
            code=ErrorCode.INVITATION_CLOSED,
        )


def borrower_invitation_accept(
    *, invitation: BorrowerInvitation, acting_user: Any
) -> BorrowerInvitation:
    """The borrower (signed in) accepts: the applicant becomes theirs, notices go to their
    verified address."""
    _expire_if_due(invitation, acting_user)
    with transaction.atomic():
        invitation = _decidable(invitation.pk, acting_user)
        applicant = invitation.applicant
        applicant.borrower = invitation.borrower
        applicant.email = selectors.borrower_verified_email(invitation.borrower) or invitation.email
        applicant.save(update_fields=["borrower", "email"])
        invitation.decided_at = timezone.now()
        transition(
            invitation,
            to="accepted",
            acting_user=acting_user,
            reason="accepted by the borrower",
            update_fields=["decided_at"],
        )
        audit(
            action="borrower_invitation_accepted",
            acting_user=acting_user,
            applicant=applicant,
            invitation=invitation.pk,
        )
    return invitation


def borrower_invitation_decline(
    *, invitation: BorrowerInvitation, acting_user: Any
) -> BorrowerInvitation:
    """The borrower declines: the applicant stays unlinked and its drafts are withdrawn."""
    _expire_if_due(invitation, acting_user)
    with transaction.atomic():
        invitation = _decidable(invitation.pk, acting_user)
        invitation.decided_at = timezone.now()
        transition(
            invitation,
            to="declined",
            acting_user=acting_user,
            reason="declined by the borrower",
            update_fields=["decided_at"],
        )
        drafts = invitation.applicant.applications.filter(status__in=OPEN_BEFORE_DECISION)
        for application_id in drafts.order_by("pk").values_list("pk", flat=True):
            # A draft has no offer: withdrawing it is its status change alone.
            transition(
                application_lock(application_id=application_id),
                to=Application.Status.WITHDRAWN,
                acting_user=acting_user,
                reason="the borrower declined the invitation",
            )
        audit(
            action="borrower_invitation_declined",
            acting_user=acting_user,
            applicant=invitation.applicant,
            invitation=invitation.pk,
        )
    return invitation


def applicant_link_check(applicant: Applicant) -> None:
    """Refuse (409) to go ahead with an applicant whose borrower was invited but has not
    accepted: submitting or accepting would act in the borrower's name without them."""
    if applicant.borrower_id is not None:
        return
    invitation = selectors.applicant_invitation_latest(applicant)
    if invitation is None:
        return  # a new borrower served in the branch
    if invitation.status == BorrowerInvitation.Status.PENDING:
        raise Conflict(
            "The borrower has not accepted the invitation to this application yet; it can go "
            "ahead once they accept it in the portal.",
            code=ErrorCode.INVITATION_PENDING,
        )
    raise Conflict(
        f"The borrower's invitation to this application is {invitation.status}; "
        "it cannot go ahead.",
        code=ErrorCode.INVITATION_CLOSED,
    )
