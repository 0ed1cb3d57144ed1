"""The staff loan page's servicing history: the whole delinquency history, reminders and
autopay debits (the loan page shows the latest rows of each), and autopay enrolment or
cancellation by a servicing agent on the borrower's request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from servicing import servicing_history_reads as reads
from servicing.autopay import autopay_cancel, autopay_enrol
from servicing.forms import AutopayCancelForm, StaffAutopayEnrolForm
from servicing.models import Loan

from .staff import VIEW_PERMISSIONS, LoanActionView, loan_or_404

PAGE_ROWS = 100


class _LoanHistoryPage(StaffRequiredMixin, View):
    """One history of a loan, paginated, newest first."""

    required_permissions = VIEW_PERMISSIONS
    section = ""
    title = ""
    rows: Callable[..., QuerySet]

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = loan_or_404(request, loan_id)
        qs = type(self).rows(loan=loan)
        page = Paginator(qs, PAGE_ROWS).get_page(request.GET.get("page"))
        context = {"loan": loan, "page": page, "section": self.section, "title": self.title}
        return render(request, "staff/servicing/loan_history_page.html", context)


class StaffLoanDelinquencyView(_LoanHistoryPage):
    section = "delinquency"
    title = "Delinquency history"
    rows = reads.loan_delinquency_history


class StaffLoanNoticesView(_LoanHistoryPage):
    section = "notices"
    title = "Reminders and notices"
    rows = reads.loan_notices


class StaffLoanAutopayDebitsView(_LoanHistoryPage):
    section = "autopay-debits"
    title = "Autopay debits"
    rows = reads.loan_autopay_debits


class StaffLoanAutopayEnrolmentsView(_LoanHistoryPage):
    section = "autopay-enrolments"
    title = "Autopay enrolments"
    rows = reads.loan_autopay_enrolments


class AutopayEnrolView(LoanActionView):
    """Enrol the loan in autopay on the borrower's request (their authorization on file)."""

    prefix = "autopay"
    form_class = StaffAutopayEnrolForm
    required_permissions = (Action.POST_PAYMENT,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        enrolment = autopay_enrol(
            loan=loan,
            account_number=data["account_number"],
            routing_number=data["routing_number"],
            authorized=data["authorized"],
            acting_user=self.request.user,
        )
        return f"Autopay enrolled from bank account ****{enrolment.account_last4}."


class AutopayCancelView(LoanActionView):
    prefix = "autopaycancel"
    form_class = AutopayCancelForm
    required_permissions = (Action.POST_PAYMENT,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        enrolment = autopay_cancel(loan=loan, acting_user=self.request.user)
        return f"Autopay from bank account ****{enrolment.account_last4} cancelled."
