"""Shell pages: the portal home and the staff dashboard (the one page composing every app)."""

from datetime import timedelta

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from collections_app.selectors import collections_figures
from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import borrower_for_user, user_can, user_is_staff_member
from origination.selectors import application_status_counts, pipeline_figures
from servicing.selectors import portfolio_summary

from .reporting import dashboard_figures

# url name -> (title, lead). The dashboard links each; sections not built yet are shells.
STAFF_SECTIONS = {
    "origination:staff-applications": (
        "Applications",
        "The application queue: work, decide and disburse.",
    ),
    "servicing:staff-loan-list": (
        "Loans",
        "Loan accounts: balances, schedules, payments and the journal.",
    ),
    "web:staff-collections": (
        "Collections",
        "Delinquency queues, contacts, promises and hardship.",
    ),
    "web:staff-reports": ("Reports", "Portfolio, delinquency and general-ledger reports."),
    "servicing:staff-cob": (
        "Close of business",
        "The business date and the nightly close-of-business runs.",
    ),
}
# url name -> the policy action a staff member needs to open it (links follow it too)
SECTION_ACTIONS = {
    "origination:staff-applications": Action.WORK_APPLICATIONS,
    "servicing:staff-loan-list": Action.READ_LOAN,
    "web:staff-collections": Action.WORK_COLLECTIONS,
    "web:staff-reports": Action.VIEW_REPORTS,
    "servicing:staff-cob": Action.RUN_COB,
}


DASHBOARD_WINDOW = timedelta(days=30)


class PortalHomeView(TemplateView):
    template_name = "portal/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
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
        counts = application_status_counts()
        context["portfolio"] = portfolio_summary()
        context.update(dashboard_figures(self.request.user))
        # the last thirty days: decisions by wall clock, collections by business date
        context["pipeline"] = pipeline_figures(since=timezone.now() - DASHBOARD_WINDOW)
        context["collections"] = collections_figures(
            since=context["portfolio"].business_date - DASHBOARD_WINDOW
        )
        context["applications_waiting"] = {
            "submitted or in review": counts["submitted"] + counts["in_review"],
            "referred to underwriting": counts["referred"],
            "offers to accept": counts["approved"],
            "to disburse": counts["offer_accepted"],
        }
        context["sections"] = [
            (url_name, title, lead)
            for url_name, (title, lead) in STAFF_SECTIONS.items()
            if user_can(self.request.user, SECTION_ACTIONS[url_name])
        ]
        return context
