"""Workouts: hardship plans and the charge-off workflow.

Hardship plan: requested by the borrower (portal) or a collector; approved by someone with
approve_modifications who is not the requester (409 otherwise), and then applied through
servicing's modification (`servicing.services.loan_modify` with `requested_by`: the loan
cures there, the money rule stays in servicing); the loan is flagged `in_hardship` while it
runs; close of business ends it (`plans_close`).

Charge-off: a collector's recommendation is servicing's charge-off request
(`charge_off_request`, requested by the collector); a manager who is not the collector
decides it through `charge_off_decide`, which posts the charge-off. Servicing's decision is
its own durable transaction, so the recommendation follows it: a retry after a crash in
between finds servicing's decision and records it (`recommendation_decide`).

Every change is a CaseEvent on the case's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from collections_app.errors import (
    CasePermissionDenied,
    CollectionsValidationError,
    FourEyes,
    WorkoutConflict,
)
from collections_app.lock_objects import plan_lock, recommendation_lock
from collections_app.models import (
    CaseEvent,
    ChargeOffRecommendation,
    CollectionCase,
    HardshipPlan,
)
from collections_app.webhook_events import case_event_publish
from lendcore.accounts.roles import Action, perm
from lendcore.core.state import actor_of, transition
from lendcore.finance.dates import add_months
from servicing import selectors as servicing_selectors
from servicing import services as servicing

MAX_MONTHS = 12
REASON_MAX = 500


def _require(acting_user, action: str) -> None:
    if acting_user is None or not acting_user.has_perm(perm(action)):
        raise CasePermissionDenied(f"This action needs a staff role with: {action}")


def _today() -> date:
    return servicing_selectors.business_date_get()


# --------------------------------------------------------------------------- hardship


@dataclass(frozen=True)
class PlanTerms:
    """How a plan changes the loan: the arguments of servicing's modification."""

    remaining_term: int | None = None
    defer_installments: int = 0
    interest_only_installments: int = 0


def plan_terms(*, kind: str, months: int, future_installments: int) -> PlanTerms:
    """Payment reduction: the next `months` installments bill interest only and the term
    grows by as many (the payment after the plan stays about what it was); deferral: the
    next `months` installments move to the end; term extension: `months` more installments
    (a lower payment for good)."""
    if kind == HardshipPlan.Kind.PAYMENT_REDUCTION:
        return PlanTerms(
            remaining_term=future_installments + months, interest_only_installments=months
        )
    if kind == HardshipPlan.Kind.DEFERRAL:
        return PlanTerms(defer_installments=months)
    return PlanTerms(remaining_term=future_installments + months)


def _plan_validate(*, kind: str, months, reason: str) -> int:
    fields: dict[str, list[str]] = {}
    if kind not in HardshipPlan.Kind.values:
        fields["kind"] = [f"Choose one of: {', '.join(HardshipPlan.Kind.values)}."]
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        fields["months"] = [f"Between 1 and {MAX_MONTHS} months."]
    if not (reason or "").strip():
        fields["reason"] = ["Say why the borrower needs a plan."]
    elif len(reason) > REASON_MAX:
        fields["reason"] = [f"At most {REASON_MAX} characters."]
    if fields:
        raise CollectionsValidationError.for_fields(fields, "Invalid hardship plan.")
    return int(months)


def _case_for(loan: Any, *, on: date, acting_user) -> CollectionCase:
    """The loan's open case, else its latest; a loan never worked gets one now (a borrower
    may ask for help before falling behind), which close of business cures if it is
    current: the plan's history stays on it."""
    cases = CollectionCase.objects.filter(loan_id=loan.pk)
    found = (
        cases.filter(status=CollectionCase.Status.OPEN).first()
        or cases.order_by("-opened_on", "-pk").first()
    )
    if found is not None:
        return found
    case = CollectionCase.objects.create(
        loan_id=loan.pk,
        opened_on=on,
        bucket=loan.delinquency_bucket,
        product_code=loan.product_code,
        dpd=loan.dpd,
        reviewed_on=on,
    )
    event = CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.OPENED,
        actor=actor_of(acting_user),
        business_date=on,
        at=timezone.now(),
        data={"dpd": loan.dpd, "bucket": loan.delinquency_bucket, "why": "hardship_request"},
    )
    case_event_publish(event, loan_id=loan.pk)
    return case


def hardship_plan_request(
    *,
    loan: Any,
    kind: str,
    months,
    reason: str,
    acting_user,
    channel: str = HardshipPlan.Channel.STAFF,
) -> HardshipPlan:
    """A requested plan. Staff need work_collections (403); a borrower asks only for their
    own loan (the caller checks it: the portal's and the API's loan lookups). 400 names the
    field; 409 for a loan that is not active or already has an open plan."""
    if channel != HardshipPlan.Channel.PORTAL:
        _require(acting_user, Action.WORK_COLLECTIONS)
    months = _plan_validate(kind=kind, months=months, reason=reason)
    on = _today()
    with transaction.atomic():
        loan = servicing_selectors.loan_get(loan_id=loan.pk)
        if loan.status != loan.Status.ACTIVE:
            raise WorkoutConflict(
                f"The loan is {loan.get_status_display().lower()}: a hardship plan is only "
                "for an active loan.",
                code="loan_not_active",
            )
        if HardshipPlan.objects.filter(
            loan_id=loan.pk, status__in=HardshipPlan.OPEN_STATUSES
        ).exists():
            raise WorkoutConflict(
                "This loan already has an open hardship plan.", code="plan_already_open"
            )
        case = _case_for(loan, on=on, acting_user=acting_user)
        try:
            with transaction.atomic():
                plan = HardshipPlan.objects.create(
                    loan_id=loan.pk,
                    case=case,
                    kind=kind,
                    months=months,
                    reason=reason.strip(),
                    channel=channel,
                    requested_by=acting_user,
                    requested_on=on,
                )
        except IntegrityError:
            raise WorkoutConflict(
                "This loan already has an open hardship plan.", code="plan_already_open"
            ) from None
        event = CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.HARDSHIP,
            actor=actor_of(acting_user),
            business_date=on,
            at=timezone.now(),
            data={
                "plan": plan.pk,
                "from": "",
                "to": HardshipPlan.Status.REQUESTED,
                "kind": kind,
                "months": months,
                "channel": channel,
                "reason": plan.reason,
            },
        )
        case_event_publish(event, loan_id=loan.pk)
    return plan


def hardship_plan_decide(
    *, plan: HardshipPlan, approve: bool, reason: str = "", acting_user
) -> HardshipPlan:
    """Approve (the loan is modified and cures, and flagged in_hardship) or reject a
    requested plan. 403 without approve_modifications; 409 for the requester, a plan no
    longer requested, or a loan no longer active (nothing changes); servicing's refusal of
    the modification (a schedule that would not amortize) is its 400/409."""
    _require(acting_user, Action.APPROVE_MODIFICATION)
    on = _today()
    with transaction.atomic():
        plan = plan_lock(plan_id=plan.pk)
        loan = servicing_selectors.loan_get(loan_id=plan.loan_id)
        if plan.status != HardshipPlan.Status.REQUESTED:
            raise WorkoutConflict(f"This plan is already {plan.status}.", code="invalid_transition")
        if plan.requested_by_id == acting_user.pk:
            raise FourEyes("Four-eyes: someone other than the requester must decide the plan.")
        plan.decided_by = acting_user
        plan.decided_at = timezone.now()
        plan.decision_reason = (reason or "").strip()[:REASON_MAX]
        if not approve:
            event = transition(
                plan,
                to=HardshipPlan.Status.REJECTED,
                acting_user=acting_user,
                reason=plan.decision_reason,
                update_fields=["decided_by", "decided_at", "decision_reason"],
                error=WorkoutConflict,
                business_date=on,
            )
            case_event_publish(event, loan_id=plan.loan_id)
            return plan
        if loan.status != loan.Status.ACTIVE:
            raise WorkoutConflict(
                f"The loan is {loan.get_status_display().lower()}: the plan cannot apply.",
                code="loan_not_active",
            )
        future = servicing_selectors.loan_schedule(loan=loan).filter(due_date__gte=on).count()
        terms = plan_terms(kind=plan.kind, months=plan.months, future_installments=future)
        modification = servicing.loan_modify(
            loan=loan,
            remaining_term=terms.remaining_term,
            defer_installments=terms.defer_installments,
            interest_only_installments=terms.interest_only_installments,
            reason=f"Hardship plan {plan.pk} ({plan.kind}, {plan.months} months)",
            acting_user=acting_user,
            requested_by=plan.requested_by,
        )
        servicing.loan_flags_set(
            loan=loan,
            acting_user=acting_user,
            in_hardship=True,
            reason=f"Hardship plan {plan.pk} approved",
        )
        plan.modification_id = modification.pk
        plan.starts_on = on
        plan.ends_on = add_months(on, plan.months)
        event = transition(
            plan,
            to=HardshipPlan.Status.ACTIVE,
            acting_user=acting_user,
            reason=plan.decision_reason,
            update_fields=[
                "decided_by",
                "decided_at",
                "decision_reason",
                "modification_id",
                "starts_on",
                "ends_on",
            ],
            error=WorkoutConflict,
            business_date=on,
        )
        case_event_publish(event, loan_id=plan.loan_id)
    return plan


# --------------------------------------------------------------------------- charge-off


def charge_off_recommend(
    *, case: CollectionCase, reason: str, acting_user
) -> ChargeOffRecommendation:
    """A collector recommends charging the case's loan off: servicing's charge-off request,
    in the collector's name, and the recommendation on the case. 403 without
    work_collections and charge_off_loans; 400 without a reason; 409 for a loan that is not
    active or already has a request."""
    _require(acting_user, Action.WORK_COLLECTIONS)
    _require(acting_user, Action.CHARGE_OFF)
    reason = (reason or "").strip()
    if not reason:
        raise CollectionsValidationError.field("reason", "Say why the loan should be charged off.")
    if len(reason) > 255:
        raise CollectionsValidationError.field("reason", "At most 255 characters.")
    on = _today()
    with transaction.atomic():
        loan = servicing_selectors.loan_get(loan_id=case.loan_id)
        if loan.status != loan.Status.ACTIVE:
            raise WorkoutConflict(
                f"The loan is {loan.get_status_display().lower()}: only an active loan is "
                "charged off.",
                code="loan_not_active",
            )
        if ChargeOffRecommendation.objects.filter(
            loan_id=loan.pk, status=ChargeOffRecommendation.Status.PENDING
        ).exists():
            raise WorkoutConflict(
                "A charge-off of this loan is already recommended.", code="already_recommended"
            )
        charge_off = servicing.charge_off_request(
            loan=loan, reason=f"Collections: {reason}"[:255], acting_user=acting_user
        )
        recommendation = ChargeOffRecommendation.objects.create(
            case_id=case.pk,
            loan_id=loan.pk,
            reason=reason,
            recommended_by=acting_user,
            recommended_on=on,
            dpd=loan.dpd,
            charge_off_id=charge_off.pk,
        )
        event = CaseEvent.objects.create(
            case_id=case.pk,
            kind=CaseEvent.Kind.CHARGE_OFF,
            actor=actor_of(acting_user),
            business_date=on,
            at=timezone.now(),
            data={
                "recommendation": recommendation.pk,
                "from": "",
                "to": ChargeOffRecommendation.Status.PENDING,
                "dpd": loan.dpd,
                "reason": reason,
            },
        )
        case_event_publish(event, loan_id=loan.pk)
    return recommendation


def recommendation_decide(
    *, recommendation: ChargeOffRecommendation, approve: bool, reason: str = "", acting_user
) -> ChargeOffRecommendation:
    """A manager approves (servicing posts the charge-off) or rejects a pending
    recommendation. 403 without approve_charge_off; 409 for the recommender or a decided
    recommendation. Not inside another transaction (servicing's decision is durable)."""
    _require(acting_user, Action.APPROVE_CHARGE_OFF)
    current = ChargeOffRecommendation.objects.get(pk=recommendation.pk)
    if current.status != ChargeOffRecommendation.Status.PENDING:
        raise WorkoutConflict(
            f"This recommendation is already {current.status}.", code="invalid_transition"
        )
    if current.recommended_by_id == acting_user.pk:
        raise FourEyes(
            "Four-eyes: someone other than the collector who recommended it must decide."
        )
    reason = (reason or "").strip()[:255]
    charge_off = servicing_selectors.charge_off_get(charge_off_id=current.charge_off_id)
    if charge_off is not None and charge_off.status == charge_off.Status.REQUESTED:
        loan = servicing_selectors.loan_get(loan_id=current.loan_id)
        charge_off = servicing.charge_off_decide(
            loan=loan,
            approve=approve,
            reason=reason or ("Approved" if approve else "Rejected"),
            acting_user=acting_user,
        )
    # servicing's decision (now, or a crashed earlier attempt's) is what the case records
    approved = charge_off is not None and charge_off.status == charge_off.Status.APPROVED
    with transaction.atomic():
        current = recommendation_lock(recommendation_id=current.pk)
        if current.status != ChargeOffRecommendation.Status.PENDING:
            return current
        current.decided_by = acting_user
        current.decided_at = timezone.now()
        current.decision_reason = reason
        fields = ["decided_by", "decided_at", "decision_reason"]
        if approved:
            assert charge_off is not None
            current.charged_off = charge_off.principal + charge_off.interest + charge_off.fees
            fields.append("charged_off")
        event = transition(
            current,
            to=ChargeOffRecommendation.Status.APPROVED
            if approved
            else ChargeOffRecommendation.Status.REJECTED,
            acting_user=acting_user,
            reason=reason,
            update_fields=fields,
            error=WorkoutConflict,
            business_date=_today(),
        )
        case_event_publish(event, loan_id=current.loan_id)
    return current


def placement_record(
    *, recommendations: list[ChargeOffRecommendation], agency: str, acting_user
) -> list[ChargeOffRecommendation]:
    """Mark approved (charged-off) recommendations as placed with `agency` (the placement
    file's rows): a `placed` event on each case. 400 for none or one not charged off."""
    _require(acting_user, Action.MANAGE_COLLECTIONS)
    agency = (agency or "").strip()
    if not agency:
        raise CollectionsValidationError.field("agency", "Name the agency.")
    if not recommendations:
        raise CollectionsValidationError.field("cases", "Choose at least one charged-off case.")
    if any(r.status != ChargeOffRecommendation.Status.APPROVED for r in recommendations):
        raise CollectionsValidationError.field("cases", "Only charged-off cases are placed.")
    on = _today()
    now = timezone.now()
    with transaction.atomic():
        ids = [r.pk for r in recommendations]
        ChargeOffRecommendation.objects.filter(pk__in=ids).update(placed_on=on, agency=agency[:100])
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=r.case_id,
                    kind=CaseEvent.Kind.PLACED,
                    actor=actor_of(acting_user),
                    business_date=on,
                    at=now,
                    data={"agency": agency[:100], "recommendation": r.pk},
                )
                for r in recommendations
            ]
        )
    return list(ChargeOffRecommendation.objects.filter(pk__in=ids).order_by("pk"))


def recovered_total(loan_id: int) -> Decimal:
    return servicing_selectors.loan_recovered(loan_id=loan_id)
