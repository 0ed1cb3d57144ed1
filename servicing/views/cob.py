"""The staff "Close of business" page (/staff/cob/, admins: run_close_of_business): a run
button, the running run's progress (htmx polls a fragment), the history of runs with
per-step counts and seconds, and the failed loans with a retry action."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.errors import ApplicationError
from servicing import selectors
from servicing.cob import selectors as cob_selectors
from servicing.cob.runner import CobDispatchError, cob_run_start

PERMISSIONS = (Action.RUN_COB,)
STEP_ORDER = (
    "rail_payments",
    "autopay",
    "accrual",
    "transitions",
    "dpd_buckets",
    "late_fees",
    "reminders",
    "statements",
    "non_accrual",
    "charge_off_candidates",
    "ledger_check",
    "foreign_key_checks",
    "close",
)


def _step_rows(run) -> list[dict[str, Any]]:
    steps = run.steps or {}
    return [
        {"name": name.replace("_", " "), **steps[name]}
        for name in STEP_ORDER
        if isinstance(steps.get(name), dict)
    ]


class CobPageView(StaffRequiredMixin, TemplateView):
    template_name = "staff/cob/page.html"
    required_permissions = PERMISSIONS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        runs = list(cob_selectors.cob_runs().prefetch_related("failures__loan")[:30])
        context.update(
            business_date=selectors.business_date_get(),
            current=cob_selectors.cob_run_current(),
            runs=[{"run": run, "steps": _step_rows(run)} for run in runs],
        )
        return context


class CobProgressView(StaffRequiredMixin, TemplateView):
    """The progress fragment htmx polls while a run is running."""

    template_name = "staff/cob/_progress.html"
    required_permissions = PERMISSIONS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["current"] = cob_selectors.cob_run_current()
        return context


class CobRunStartView(StaffRequiredMixin, View):
    required_permissions = PERMISSIONS

    def post(self, request, *args, **kwargs):
        run_id = request.POST.get("retry")
        business_date = None
        if run_id:
            run = cob_selectors.cob_run_get(run_id=int(run_id)) if run_id.isdigit() else None
            business_date = run.business_date if run else None
        try:
            run = cob_run_start(
                business_date=business_date, acting_user=request.user, trigger="staff"
            )
        except CobDispatchError as error:
            messages.error(request, f"Close of business could not start (broker down?): {error}")
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            if run.status == run.Status.RUNNING:
                messages.info(request, f"Close of business for {run.business_date} started.")
            elif run.status == run.Status.SUCCEEDED:
                messages.success(request, f"Close of business for {run.business_date} finished.")
            else:
                messages.error(request, run.error or "Close of business failed.")
        return redirect("servicing:staff-cob")
