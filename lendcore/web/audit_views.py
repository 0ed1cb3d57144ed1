"""The audit trail for auditors and admins: search by user, action, object and date; CSV."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils import timezone
from django.views.generic import TemplateView

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.core.audit import Action, audit_record
from lendcore.core.audit_selectors import (
    AUDIT_CSV_HEADER,
    AuditFilters,
    audit_actions,
    audit_csv_rows,
    audit_events,
)
from lendcore.core.csv_export import csv_write
from lendcore.core.replica import using_replica

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User name contains")
    action = forms.CharField(required=False, max_length=50)
    object_type = forms.CharField(required=False, max_length=50, label="Object type")
    object_id = forms.CharField(required=False, max_length=50, label="Object id")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(**{k: v for k, v in data.items() if v not in (None, "")})


class AuditTrailView(StaffRequiredMixin, TemplateView):
    required_permissions = ("view_audit",)
    template_name = "staff/audit.html"

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None)
        page = Paginator(audit_events(form.filters()), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form, page=page, actions=audit_actions(), query=query.urlencode(), **kwargs
        )


class AuditExportView(StaffRequiredMixin, TemplateView):
    required_permissions = ("view_audit",)

    def get(self, request, *args, **kwargs):
        form = AuditFilterForm(request.GET or None)
        filters = form.filters()
        # a heavy read: from the read replica when one is configured (it may lag a few
        # seconds behind, so this export's own event may be missing from it)
        events = using_replica(audit_events(filters))
        # the export is itself audited (before it is read: it names what was asked for)
        audit_record(action=Action.AUDIT_EXPORTED, request=request, filters=request.GET.dict())
        response = HttpResponse(content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        csv_write(response, AUDIT_CSV_HEADER, audit_csv_rows(events.iterator()))
        return response
