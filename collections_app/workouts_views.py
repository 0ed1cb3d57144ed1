"""Workouts' staff pages: the manager's page (pending hardship plans and charge-off
recommendations with approve/reject, charge-off candidates, the agency placement file), the
POST endpoints behind the case page's two panels (`templates/collections/_case_hardship.html`
and `_case_charge_off.html`, whose context `workouts_selectors.case_workouts` gives), and a
small preview page of those panels for a case (the full case page is built elsewhere)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_can
from lendcore.errors import ApplicationError

from . import selectors, workouts_selectors
from .forms import DecisionForm, HardshipRequestForm, PlacementForm, RecommendForm
from .models import ChargeOffRecommendation, HardshipPlan
from .services.workouts import (
    charge_off_recommend,
    hardship_plan_decide,
    hardship_plan_request,
    placement_record,
    recommendation_decide,
)


def _placement_choices() -> list[tuple[int, str]]:
    return [
        (r.pk, f"Case {r.case_id} · {r.loan.loan_number} · {r.loan.borrower.full_name}")
        for r in workouts_selectors.placement_rows()
    ]


def workouts_context(request: HttpRequest, **extra) -> dict:
    return {
        "plans": list(workouts_selectors.plans(status=HardshipPlan.Status.REQUESTED)),
        "recommendations": list(
            workouts_selectors.recommendations(status=ChargeOffRecommendation.Status.PENDING)
        ),
        "candidates": list(workouts_selectors.charge_off_candidates()[:50]),
        "placement_form": PlacementForm(choices=_placement_choices()),
        "can_approve_plans": user_can(request.user, Action.APPROVE_MODIFICATION),
        "can_approve_charge_offs": user_can(request.user, Action.APPROVE_CHARGE_OFF),
        "business_date": selectors.today(),
        **extra,
    }


class WorkoutsView(StaffRequiredMixin, View):
    """The manager's page."""

    required_permissions = (Action.MANAGE_COLLECTIONS,)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "staff/collections/workouts.html", workouts_context(request))


def _back(request: HttpRequest, default: str, **kwargs) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default, **kwargs)


def _error_page(request: HttpRequest, error: ApplicationError | None, form) -> HttpResponse:
    status = error.http_status if error is not None else 400
    message = error.message if error is not None else "Check the form."
    return render(
        request,
        "staff/collections/workouts.html",
        workouts_context(request, page_error=message, error_form=form),
        status=status,
    )


class PlanDecideView(StaffRequiredMixin, View):
    required_permissions = (Action.APPROVE_MODIFICATION,)

    def post(self, request: HttpRequest, plan_id: int) -> HttpResponse:
        try:
            plan = workouts_selectors.plan_get(plan_id=plan_id)
        except ApplicationError as error:
            raise Http404(error.message) from error
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return _error_page(request, None, form)
        try:
            hardship_plan_decide(
                plan=plan,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ApplicationError as error:
            return _error_page(request, error, form)
        messages.success(request, f"Hardship plan {plan.pk} {form.cleaned_data['decision']}d.")
        return _back(request, "collections:staff-workouts")


class RecommendationDecideView(StaffRequiredMixin, View):
    required_permissions = (Action.APPROVE_CHARGE_OFF,)

    def post(self, request: HttpRequest, recommendation_id: int) -> HttpResponse:
        try:
            recommendation = workouts_selectors.recommendation_get(
                recommendation_id=recommendation_id
            )
        except ApplicationError as error:
            raise Http404(error.message) from error
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return _error_page(request, None, form)
        try:
            recommendation_decide(
                recommendation=recommendation,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ApplicationError as error:
            return _error_page(request, error, form)
        messages.success(
            request,
            f"Charge-off recommendation {recommendation.pk} {form.cleaned_data['decision']}d.",
        )
        return _back(request, "collections:staff-workouts")


class PlacementView(StaffRequiredMixin, View):
    """POST: the placement file of the chosen charged-off cases (CSV download), recorded on
    each case."""

    required_permissions = (Action.MANAGE_COLLECTIONS,)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PlacementForm(request.POST, choices=_placement_choices())
        if not form.is_valid():
            return render(
                request,
                "staff/collections/workouts.html",
                workouts_context(request, placement_form=form),
                status=400,
            )
        rows = workouts_selectors.placement_rows(ids=form.cleaned_data["recommendations"])
        try:
            placement_record(
                recommendations=rows, agency=form.cleaned_data["agency"], acting_user=request.user
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return render(
                request,
                "staff/collections/workouts.html",
                workouts_context(request, placement_form=form),
                status=error.http_status,
            )
        on = selectors.today()
        response = HttpResponse(
            workouts_selectors.placement_csv(
                workouts_selectors.placement_rows(ids=[r.pk for r in rows]), on=on
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="placement-{on.isoformat()}.csv"'
        return response


# --------------------------------------------------------------------------- case panels


def case_panels_context(request: HttpRequest, case, **extra) -> dict:
    """The two panels' context (the case page includes them with this)."""
    return {
        "case": case,
        "workouts": workouts_selectors.case_workouts(case=case),
        "hardship_form": extra.pop("hardship_form", None) or HardshipRequestForm(),
        "recommend_form": extra.pop("recommend_form", None) or RecommendForm(),
        "can_work": user_can(request.user, Action.WORK_COLLECTIONS),
        "can_recommend": user_can(request.user, Action.WORK_COLLECTIONS, Action.CHARGE_OFF),
        "can_approve_plans": user_can(request.user, Action.APPROVE_MODIFICATION),
        "can_approve_charge_offs": user_can(request.user, Action.APPROVE_CHARGE_OFF),
        "decision_form": DecisionForm(),
        **extra,
    }


def _case_or_404(case_id: int):
    try:
        return selectors.case_get(case_id=case_id)
    except ApplicationError as error:
        raise Http404(error.message) from error


class CaseWorkoutsView(StaffRequiredMixin, View):
    """The panels of one case on their own page (until the case page includes them)."""

    required_permissions = (Action.WORK_COLLECTIONS,)

    def get(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = _case_or_404(case_id)
        return render(
            request, "staff/collections/case_workouts.html", case_panels_context(request, case)
        )


class CaseHardshipRequestView(StaffRequiredMixin, View):
    required_permissions = (Action.WORK_COLLECTIONS,)

    def post(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = _case_or_404(case_id)
        form = HardshipRequestForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                hardship_plan_request(
                    loan=case.loan,
                    kind=form.cleaned_data["kind"],
                    months=form.cleaned_data["months"],
                    reason=form.cleaned_data["reason"],
                    acting_user=request.user,
                )
            except ApplicationError as error:
                for name, errors in error.extra.get("fields", {}).items():
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
                if not error.extra.get("fields"):
                    form.add_error(None, error.message)
                status = error.http_status
            else:
                messages.success(request, "Hardship plan requested: a manager decides it.")
                return _back(request, "collections:staff-case-workouts", case_id=case.pk)
        context = case_panels_context(request, case, hardship_form=form)
        return render(request, "staff/collections/case_workouts.html", context, status=status)


class CaseRecommendView(StaffRequiredMixin, View):
    required_permissions = (Action.WORK_COLLECTIONS, Action.CHARGE_OFF)

    def post(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = _case_or_404(case_id)
        form = RecommendForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                charge_off_recommend(
                    case=case, reason=form.cleaned_data["reason"], acting_user=request.user
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
                status = error.http_status
            else:
                messages.success(request, "Charge-off recommended: a manager decides it.")
                return _back(request, "collections:staff-case-workouts", case_id=case.pk)
        context = case_panels_context(request, case, recommend_form=form)
        return render(request, "staff/collections/case_workouts.html", context, status=status)
