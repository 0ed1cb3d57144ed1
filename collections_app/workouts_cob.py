"""Close of business for workouts (run by `collections_app.cob.collections_close`, in the
scope's transaction, after the cases are brought up to date):

- hardship plans end: broken when the loan is COLLECTIONS_HARDSHIP_BREAK_DPD days past due
  again (or charged off), completed once their months are over (or the loan paid off); the
  loan's `in_hardship` flag is cleared through servicing's `loan_flags_set`;
- recoveries: what payments after a charge-off brought in, kept on the approved
  recommendation, with a `recovery` event on the case when it changes.

Set-based selection (one query each for the scope), a write per plan that ends (few a day).
Exactly once: only active plans end, and a recovery event is written only for a change,
so closing a day again changes nothing.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils import timezone

from lendcore.finance.money import ZERO
from servicing import selectors as servicing_selectors
from servicing import services as servicing

from . import config
from .models import CaseEvent, ChargeOffRecommendation, HardshipPlan

ACTIVE = "active"
PAID_OFF = "paid_off"


def plans_close(lo: int, hi: int, day: date) -> int:
    """End the active plans of loans [lo, hi] closed for `day` that are over. Returns how
    many ended."""
    break_dpd = config.hardship_break_dpd()
    rows = list(
        HardshipPlan.objects.filter(
            status=HardshipPlan.Status.ACTIVE,
            loan_id__gte=lo,
            loan_id__lte=hi,
        )
        .filter(
            # an active loan closed for the day that fell behind or whose plan is over; a
            # loan that left servicing (close of business may no longer close it)
            (
                Q(loan__last_closed_on=day, loan__status=ACTIVE)
                & (Q(loan__dpd__gte=break_dpd) | Q(ends_on__lte=day))
            )
            | ~Q(loan__status=ACTIVE)
        )
        .values_list("pk", "loan_id", "case_id", "loan__dpd", "loan__status")
    )
    if not rows:
        return 0
    now = timezone.now()
    ended: dict[str, list[int]] = {
        HardshipPlan.Status.BROKEN: [],
        HardshipPlan.Status.COMPLETED: [],
    }
    events = []
    for pk, _loan_id, case_id, dpd, loan_status in rows:
        broken = (loan_status == ACTIVE and dpd >= break_dpd) or loan_status not in (
            ACTIVE,
            PAID_OFF,
        )
        to: str = HardshipPlan.Status.BROKEN if broken else HardshipPlan.Status.COMPLETED
        ended[to].append(pk)
        events.append(
            CaseEvent(
                case_id=case_id,
                kind=CaseEvent.Kind.HARDSHIP,
                business_date=day,
                at=now,
                data={
                    "plan": pk,
                    "from": HardshipPlan.Status.ACTIVE,
                    "to": to,
                    "dpd": dpd,
                    "loan_status": loan_status,
                },
            )
        )
    for to, ids in ended.items():
        if ids:
            HardshipPlan.objects.filter(pk__in=ids, status=HardshipPlan.Status.ACTIVE).update(
                status=to, ended_on=day
            )
    CaseEvent.objects.bulk_create(events)
    for pk, loan_id, _case_id, _dpd, _status in rows:
        servicing.loan_flags_set(
            loan=servicing_selectors.loan_get(loan_id=loan_id),
            acting_user=None,
            in_hardship=False,
            reason=f"Hardship plan {pk} ended",
        )
    return len(rows)


def recoveries_track(lo: int, hi: int, day: date) -> int:
    """Keep each charged-off case's recoveries up to date. Returns the cases changed."""
    recs = list(
        ChargeOffRecommendation.objects.filter(
            status=ChargeOffRecommendation.Status.APPROVED, loan_id__gte=lo, loan_id__lte=hi
        ).values_list("pk", "loan_id", "case_id", "recovered")
    )
    if not recs:
        return 0
    totals = servicing_selectors.loan_recoveries(loan_ids=[loan_id for _, loan_id, _, _ in recs])
    now = timezone.now()
    changed = []
    events = []
    for pk, loan_id, case_id, recovered in recs:
        total = totals.get(loan_id, ZERO)
        if total != recovered:
            changed.append(ChargeOffRecommendation(pk=pk, recovered=total))
            events.append(
                CaseEvent(
                    case_id=case_id,
                    kind=CaseEvent.Kind.RECOVERY,
                    business_date=day,
                    at=now,
                    data={"recommendation": pk, "from": str(recovered), "to": str(total)},
                )
            )
    ChargeOffRecommendation.objects.bulk_update(changed, ["recovered"])
    CaseEvent.objects.bulk_create(events)
    return len(changed)
