"""Staff pages of the portfolio import: upload, the list of imports, and one import's
progress (a bar that htmx polls while the task runs) and error report."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.views.generic import TemplateView

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.errors import ApplicationError
from origination import selectors
from origination.forms import LoanImportForm
from origination.services import loan_import

PAGE_SIZE = 25
ERRORS_SHOWN = 500


class LoanImportListView(StaffRequiredMixin, TemplateView):
    required_permissions = (Action.IMPORT_LOANS,)
    template_name = "staff/origination/loan_imports.html"

    def get_context_data(self, **kwargs):
        page = Paginator(selectors.loan_import_list(), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        kwargs.setdefault("form", LoanImportForm())
        return super().get_context_data(page=page, **kwargs)

    def post(self, request):
        form = LoanImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            payments = data.get("payments_file")
            try:
                job = loan_import.loan_import_create(
                    content=data["file"].read(),
                    payments_content=payments.read() if payments else None,
                    file_name=data["file"].name or "",
                    valid_only=data["valid_only"],
                    dry_run=data["dry_run"],
                    acting_user=request.user,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                return redirect("origination:staff-loan-import", import_id=job.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LoanImportDetailView(StaffRequiredMixin, TemplateView):
    required_permissions = (Action.IMPORT_LOANS,)
    template_name = "staff/origination/loan_import.html"

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["staff/origination/_loan_import_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        job = selectors.loan_import_get(import_id=self.kwargs["import_id"])
        done = job.imported_rows if job.validated_rows >= job.total_rows > 0 else 0
        total = job.total_rows or 1
        return super().get_context_data(
            job=job,
            running=job.status in (job.Status.PENDING, job.Status.RUNNING),
            validated_pct=min(100, job.validated_rows * 100 // total),
            imported_pct=min(100, done * 100 // total),
            errors=job.errors[:ERRORS_SHOWN],
            errors_more=max(0, len(job.errors) - ERRORS_SHOWN),
            **kwargs,
        )
