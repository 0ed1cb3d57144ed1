"""Shell pages: the portal home, the staff dashboard and the sections later issues fill."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.selectors import borrower_for_user, user_is_staff_member

STAFF_SECTIONS = {
    "applications": ("Applications", "The application queue: work, decide and disburse."),
    "loans": ("Loans", "Loan accounts: balances, schedules, payments and the journal."),
    "collections": ("Collections", "Delinquency queues, contacts, promises and hardship."),
    "reports": ("Reports", "Portfolio, delinquency and general-ledger reports."),
    "cob": ("Close of business", "The business date and the nightly close-of-business runs."),
}

PORTAL_SECTIONS = {
    "apply": ("Apply for a loan", "Start an application, upload documents, accept an offer."),
    "loans": ("My loans", "Your loans, their schedules, payments and statements."),
}


class PortalHomeView(TemplateView):
    template_name = "portal/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["borrower"] = borrower_for_user(self.request.user)
        return context


class PortalPlaceholderView(LoginRequiredMixin, TemplateView):
    """A portal section whose content arrives with the origination and servicing issues."""

    template_name = "portal/section.html"
    section = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"], context["lead"] = PORTAL_SECTIONS[self.section]
        context["borrower"] = borrower_for_user(self.request.user)
        return context


class AfterLoginView(LoginRequiredMixin, View):
    """Staff land on the dashboard, borrowers on the portal."""

    def get(self, request):
        if user_is_staff_member(request.user):
            return redirect("web:staff-dashboard")
        return redirect("web:portal-home")


class StaffDashboardView(StaffRequiredMixin, TemplateView):
    template_name = "staff/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sections"] = [
            (f"web:staff-{key}", title, lead) for key, (title, lead) in STAFF_SECTIONS.items()
        ]
        return context


class StaffSectionView(StaffRequiredMixin, TemplateView):
    template_name = "staff/section.html"
    section = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"], context["lead"] = STAFF_SECTIONS[self.section]
        return context
