"""Workouts' reads: the manager's pending lists, the case page's hardship and charge-off
panels (`case_workouts`: the context of `templates/collections/_case_hardship.html` and
`_case_charge_off.html`), and the agency placement file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from lendcore.core.crypto import mask
from lendcore.finance.money import ZERO
from servicing import selectors as servicing_selectors

from .errors import WorkoutNotFound
from .models import ChargeOffRecommendation, CollectionCase, HardshipPlan

_RELATED = ("loan", "loan__borrower", "case", "requested_by", "decided_by")


def plans(*, status: str | None = None) -> QuerySet[HardshipPlan]:
    qs = HardshipPlan.objects.select_related(*_RELATED).order_by("pk")
    return qs.filter(status=status) if status else qs


def plan_get(*, plan_id: int) -> HardshipPlan:
    plan = plans().filter(pk=plan_id).first()
    if plan is None:
        raise WorkoutNotFound(f"No hardship plan {plan_id}.", code="plan_not_found")
    return plan


def recommendations(*, status: str | None = None) -> QuerySet[ChargeOffRecommendation]:
    qs = ChargeOffRecommendation.objects.select_related(
        "loan", "loan__borrower", "case", "recommended_by", "decided_by"
    ).order_by("pk")
    return qs.filter(status=status) if status else qs


def recommendation_get(*, recommendation_id: int) -> ChargeOffRecommendation:
    found = recommendations().filter(pk=recommendation_id).first()
    if found is None:
        raise WorkoutNotFound(
            f"No charge-off recommendation {recommendation_id}.", code="recommendation_not_found"
        )
    return found


def charge_off_candidates() -> QuerySet[CollectionCase]:
    """Open cases at the charge-off threshold (servicing's COB_CHARGE_OFF_CANDIDATE_DPD)
    without a pending recommendation, oldest debt first."""
    pending = ChargeOffRecommendation.objects.filter(
        case_id=OuterRef("pk"), status=ChargeOffRecommendation.Status.PENDING
    )
    return (
        CollectionCase.objects.filter(
            status=CollectionCase.Status.OPEN,
            dpd__gte=servicing_selectors.charge_off_candidate_dpd(),
        )
        .exclude(Exists(pending))
        .select_related("loan", "loan__borrower", "assignee")
        .order_by("-dpd", "pk")
    )


@dataclass
class CaseWorkouts:
    """What the case page's two panels show."""

    case: CollectionCase
    open_plan: HardshipPlan | None
    past_plans: list[HardshipPlan]
    recommendation: ChargeOffRecommendation | None  # pending, else the latest
    candidate: bool  # at the charge-off threshold
    recovered: Decimal
    recovery_payments: list[Any] = field(default_factory=list)
    loan_active: bool = True


def case_workouts(*, case: CollectionCase) -> CaseWorkouts:
    """A few queries whatever the case's history."""
    all_plans = list(
        HardshipPlan.objects.filter(loan_id=case.loan_id)
        .select_related("requested_by", "decided_by")
        .order_by("-pk")
    )
    open_plan = next((p for p in all_plans if p.status in HardshipPlan.OPEN_STATUSES), None)
    recs = list(
        ChargeOffRecommendation.objects.filter(loan_id=case.loan_id)
        .select_related("recommended_by", "decided_by")
        .order_by("-pk")
    )
    recommendation = next(
        (r for r in recs if r.status == ChargeOffRecommendation.Status.PENDING),
        recs[0] if recs else None,
    )
    loan = case.loan
    charged_off = loan.status == loan.Status.CHARGED_OFF
    payments = (
        list(servicing_selectors.loan_recovery_payments(loan_id=loan.pk)) if charged_off else []
    )
    recovered = sum((p.amount for p in payments if p.status == "posted"), ZERO)
    return CaseWorkouts(
        case=case,
        open_plan=open_plan,
        past_plans=[p for p in all_plans if p is not open_plan],
        recommendation=recommendation,
        candidate=loan.dpd >= servicing_selectors.charge_off_candidate_dpd(),
        recovered=recovered,
        recovery_payments=payments,
        loan_active=loan.status == loan.Status.ACTIVE,
    )


# --------------------------------------------------------------------------- placement

PLACEMENT_COLUMNS = (
    "case_id",
    "loan_number",
    "borrower_name",
    "email_masked",
    "phone_masked",
    "charged_off_on",
    "charged_off_amount",
    "recovered",
    "balance_placed",
    "dpd_at_recommendation",
    "currency",
)


def placement_rows(*, ids: Iterable[int] | None = None) -> list[ChargeOffRecommendation]:
    """Approved (charged-off) recommendations, all or the chosen ones."""
    qs = recommendations(status=ChargeOffRecommendation.Status.APPROVED)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return list(qs)


def placement_csv(rows: list[ChargeOffRecommendation], *, on: date) -> str:
    """The agency's placement file: one line per charged-off account. Contact details are
    masked (last four shown): the agency identifies the account by loan number and name and
    gets the rest through its secured onboarding, not in a file that travels by e-mail."""
    recovered = servicing_selectors.loan_recoveries(loan_ids=[r.loan_id for r in rows])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PLACEMENT_COLUMNS)
    for r in rows:
        loan = r.loan
        got = recovered.get(r.loan_id, ZERO)
        writer.writerow(
            [
                r.case_id,
                loan.loan_number,
                loan.borrower.full_name,
                _mask_email(loan.borrower.email),
                mask(loan.borrower.phone),
                loan.charged_off_on.isoformat() if loan.charged_off_on else "",
                f"{r.charged_off:.2f}",
                f"{got:.2f}",
                f"{max(r.charged_off - got, ZERO):.2f}",
                r.dpd,
                loan.currency,
            ]
        )
    return out.getvalue()


def _mask_email(email: str) -> str:
    local, _, domain = (email or "").partition("@")
    if not domain:
        return mask(email)
    return f"{local[:1]}•••@{domain}"
