"""The borrower's hardship request in the portal: a form on the borrower's own loan (any
other loan, or a staff account: 404) creating a requested plan that a manager decides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from lendcore.accounts.selectors import borrower_for_user
from lendcore.errors import ApplicationError
from servicing import selectors as servicing_selectors

from . import workouts_selectors
from .forms import HardshipRequestForm
from .models import HardshipPlan
from .services.workouts import hardship_plan_request


def _own_loan(request: HttpRequest, loan_id: int):
    borrower = borrower_for_user(request.user)
    if borrower is None:
        raise Http404("No such loan.")
    try:
        loan = servicing_selectors.loan_get_visible(user=request.user, loan_id=loan_id)
    except ApplicationError:
        raise Http404("No such loan.") from None
    if loan.borrower_id != borrower.pk:
        raise Http404("No such loan.")
    return loan


class PortalHardshipView(LoginRequiredMixin, View):
    template_name = "portal/loans/hardship.html"

    def _page(self, request, loan, form, status: int = 200) -> HttpResponse:
        plans = list(workouts_selectors.plans().filter(loan_id=loan.pk).order_by("-pk")[:5])
        open_plan = next((p for p in plans if p.status in HardshipPlan.OPEN_STATUSES), None)
        context = {
            "loan": loan,
            "balances": servicing_selectors.loan_balances(loan),
            "form": form,
            "open_plan": open_plan,
            "plans": plans,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = _own_loan(request, loan_id)
        return self._page(request, loan, HardshipRequestForm())

    def post(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = _own_loan(request, loan_id)
        form = HardshipRequestForm(request.POST)
        if not form.is_valid():
            return self._page(request, loan, form, status=400)
        try:
            hardship_plan_request(
                loan=loan,
                kind=form.cleaned_data["kind"],
                months=form.cleaned_data["months"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                channel=HardshipPlan.Channel.PORTAL,
            )
        except ApplicationError as error:
            fields = error.extra.get("fields") or {}
            for name, errors in fields.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
            if not fields:
                form.add_error(None, error.message)
            return self._page(request, loan, form, status=error.http_status)
        messages.success(
            request,
            "We received your hardship request. A member of our team will review it and "
            "let you know.",
        )
        return redirect(reverse("servicing:portal-loan-detail", args=[loan.pk]))
