"""The staff Reports pages: the reports a role may run (/staff/reports/), and one report
(/staff/reports/<name>/) with its window and product, its chart and table, CSV and PDF."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.core.pdf import render_pdf

from .reporting import (
    ReportForbidden,
    ReportNotFound,
    ReportRun,
    ReportWindowError,
    report_chart,
    report_csv,
    report_display,
    report_filters,
    report_for,
    report_run,
    reports_for,
)


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    product = forms.CharField(required=False, max_length=64, label="Product code")


class ReportsIndexView(StaffRequiredMixin, View):
    required_permissions = (Action.VIEW_REPORTS,)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "staff/reports/index.html", {"reports": reports_for(request.user)})


class ReportView(StaffRequiredMixin, View):
    """`?format=csv` downloads the rows, `?format=pdf` prints the page; else the page."""

    required_permissions = (Action.VIEW_REPORTS,)

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            spec = report_for(request.user, name)
        except ReportNotFound:
            raise Http404(name) from None
        except ReportForbidden:
            raise PermissionDenied(name) from None
        form = ReportFilterForm(request.GET)
        context = {"spec": spec, "form": form, "run": None, "chart": None}
        if not form.is_valid():
            return render(request, "staff/reports/report.html", context, status=400)
        try:
            filters = report_filters(
                spec,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                product=form.cleaned_data["product"],
            )
        except ReportWindowError as error:
            for key, message in error.fields.items():
                form.add_error("date_from" if key == "from" else "date_to", message)
            return render(request, "staff/reports/report.html", context, status=400)
        run = report_run(spec, filters)
        fmt = request.GET.get("format", "")
        if fmt == "csv":
            return _csv(run)
        if fmt == "pdf":
            return _pdf(request, run)
        context.update(run=run, chart=report_chart(run), **report_display(run))
        return render(request, "staff/reports/report.html", context)


def _filename(run: ReportRun, ext: str) -> str:
    return f"{run.spec.name}-{run.filters.date_from}-{run.filters.date_to}.{ext}"


def _csv(run: ReportRun) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{_filename(run, "csv")}"'
    report_csv(response, run)
    return response


def _pdf(request: HttpRequest, run: ReportRun) -> HttpResponse:
    pdf = render_pdf(
        "staff/reports/report_pdf.html",
        {"run": run, **report_display(run)},
        base_url=request.build_absolute_uri("/"),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(run, "pdf")}"'
    return response
