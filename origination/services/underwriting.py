"""Manual review by underwriters, with four-eyes above the product's limit."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.core.state import transition
from origination import effects, pricing, rules, selectors
from origination.errors import FourEyesViolation, InvalidTransition, SelfApproval, ValidationFailed
from origination.lock_objects import application_lock
from origination.models import Application, UnderwriterAction
from origination.services._common import S, application_event, audit, terms_errors
from origination.services.offers import offer_create


def _check_not_self(application: Application, acting_user: Any) -> None:
    applicant = application.applicant
    borrower = applicant.borrower if applicant.borrower_id else None
    borrower_user_id = borrower.user_id if borrower is not None else None
    if acting_user.pk in (application.created_by_id, applicant.created_by_id, borrower_user_id):
        raise SelfApproval("You cannot approve an application you created or are the applicant on.")


def _current_round(approvals: list[UnderwriterAction]) -> list[UnderwriterAction]:
    """The approvals that agree on the latest terms: the trailing run with the same terms."""
    if not approvals:
        return []
    latest = approvals[-1]
    run: list[UnderwriterAction] = []
    for action in reversed(approvals):
        if (action.amount, action.annual_rate, action.term) != (
            latest.amount,
            latest.annual_rate,
            latest.term,
        ):
            break
        run.append(action)
    return list(reversed(run))


def _changes_terms(
    last: UnderwriterAction,
    amount: Decimal | None,
    annual_rate: Decimal | None,
    term: int | None,
) -> bool:
    return (
        (amount is not None and amount != last.amount)
        or (annual_rate is not None and annual_rate != last.annual_rate)
        or (term is not None and term != last.term)
    )


def application_approve(
    *,
    application: Application,
    acting_user: Any,
    amount: Decimal | None = None,
    annual_rate: Decimal | None = None,
    term: int | None = None,
) -> Application:
    """An underwriter approves a referred application, optionally with a counter-offer.

    Above the product's four-eyes limit the first approval is recorded and the application
    stays referred until a different underwriter approves too. The second approver confirms
    the first approver's terms (passing none, or the same): terms that differ start the
    four-eyes round again, with this approver as its first (issue 10, point 2).
    """
    version = application.product_version
    errors = terms_errors(version, amount=amount, term=term)
    if annual_rate is not None and not Decimal("0") <= annual_rate <= Decimal("100"):
        errors.add("annual_rate", "Must be between 0 and 100 (percent a year).")
    errors.raise_if_any("The counter-offer is outside the product's limits.")
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        if application.status != S.REFERRED:
            raise InvalidTransition(
                f"An application that is {application.status} cannot be approved; "
                "only referred applications are.",
                extra={"from": application.status, "to": S.APPROVED},
            )
        _check_not_self(application, acting_user)
        approvals = list(
            application.underwriter_actions.filter(kind=UnderwriterAction.Kind.APPROVE).order_by(
                "pk"
            )
        )
        prior = _current_round(approvals)
        last = prior[-1] if prior else None
        if last is not None and _changes_terms(last, amount, annual_rate, term):
            prior, last = [], None  # new terms: a new round, this approver its first
        elif any(p.underwriter_id == acting_user.pk for p in prior):
            raise FourEyesViolation(
                "You have already approved this application; a second, different underwriter "
                "must approve it."
            )
        final_amount = amount or (last.amount if last else None) or application.amount
        final_term = term or (last.term if last else None) or application.term
        decision = selectors.application_latest_decision(application)
        final_rate = annual_rate
        if final_rate is None and last is not None:
            final_rate = last.annual_rate
        if final_rate is None:
            final_rate = (
                decision.offered_rate
                if decision is not None and decision.offered_rate is not None
                else pricing.fallback_rate(version)
            )
        UnderwriterAction.objects.create(
            application=application,
            underwriter=acting_user,
            kind=UnderwriterAction.Kind.APPROVE,
            amount=final_amount,
            annual_rate=final_rate,
            term=final_term,
        )
        counter = amount is not None or annual_rate is not None or term is not None
        audit(
            action="underwriter_approval",
            acting_user=acting_user,
            application=application,
            amount=str(final_amount),
            annual_rate=str(final_rate),
            term=final_term,
            counter_offer=counter,
        )
        limit = version.four_eyes_limit
        if limit is not None and final_amount > limit and not prior:
            application.status_reason = "awaiting_second_approval"
            application.save(update_fields=["status_reason", "updated_at"])
            return application
        application.status_reason = ""
        application.decided_at = timezone.now()
        transition(
            application,
            to=S.APPROVED,
            acting_user=acting_user,
            reason="approved by underwriter" + (" with a counter-offer" if counter else ""),
            update_fields=["status_reason", "decided_at"],
        )
        offer_create(
            application=application,
            amount=final_amount,
            annual_rate=final_rate,
            term=final_term,
            acting_user=acting_user,
        )
        application_event(
            "application.decided",
            application,
            outcome=S.APPROVED,
            decided_by="underwriter",
            counter_offer=counter,
        )
        effects.decision_effects_on_commit(application.pk, S.APPROVED)
    return application


def _reasons_parse(reasons: Iterable[Any]) -> list[dict[str, str]]:
    parsed: list[dict[str, str]] = []
    for item in reasons:
        if isinstance(item, Mapping):
            code, text = str(item.get("code", "")).strip(), str(item.get("text", "")).strip()
        else:
            text = str(item).strip()
            code = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")[:50]
        if text:
            parsed.append({"code": code or "OTHER", "text": text})
    return parsed


def application_decline(
    *, application: Application, acting_user: Any, reasons: Iterable[Any]
) -> Application:
    """An underwriter declines a referred application with up to four principal reasons."""
    parsed = _reasons_parse(reasons)
    if not parsed:
        raise ValidationFailed.for_fields({"reasons": ["At least one reason is required."]})
    if len(parsed) > rules.MAX_REASONS:
        raise ValidationFailed.for_fields(
            {"reasons": [f"At most {rules.MAX_REASONS} principal reasons."]}
        )
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        if application.status != S.REFERRED:
            raise InvalidTransition(
                f"An application that is {application.status} cannot be declined by an "
                "underwriter; only referred applications are.",
                extra={"from": application.status, "to": S.DECLINED},
            )
        UnderwriterAction.objects.create(
            application=application,
            underwriter=acting_user,
            kind=UnderwriterAction.Kind.DECLINE,
            reasons=parsed,
        )
        application.status_reason = ""
        application.decided_at = timezone.now()
        transition(
            application,
            to=S.DECLINED,
            acting_user=acting_user,
            reason="declined by underwriter: " + ", ".join(r["code"] for r in parsed),
            update_fields=["status_reason", "decided_at"],
        )
        application_event(
            "application.decided", application, outcome=S.DECLINED, decided_by="underwriter"
        )
        effects.decision_effects_on_commit(application.pk, S.DECLINED)
    return application
