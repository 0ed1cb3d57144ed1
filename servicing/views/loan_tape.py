"""The staff Loan tape page (/staff/loan-tape/, staff who read loans): pick a date, a product
and a format, download the tape (servicing.loan_tape; columns in docs/loan_tape.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.core.audit import Action as AuditAction
from lendcore.core.audit import audit_record
from lendcore.errors import ApplicationError
from servicing import selectors
from servicing.forms import LoanTapeForm
from servicing.loan_tape import COLUMNS, loan_tape_rows
from servicing.loan_tape_export import MEDIA_TYPES, TapeFormat, loan_tape_pieces

TEMPLATE = "staff/servicing/loan_tape.html"


class LoanTapeView(StaffRequiredMixin, View):
    required_permissions = (Action.READ_LOAN,)

    def get(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        business_date = selectors.business_date_get()
        if "as_of" not in request.GET:
            form = LoanTapeForm(initial={"as_of": business_date, "format": "csv"})
            return self._page(request, form, business_date)
        form = LoanTapeForm(request.GET)
        if not form.is_valid():
            return self._page(request, form, business_date, status=400)
        as_of, fmt = form.cleaned_data["as_of"], TapeFormat(form.cleaned_data["format"])
        product = form.cleaned_data["product"] or None
        try:
            rows = loan_tape_rows(as_of=as_of, product=product)
        except ApplicationError as error:
            form.add_service_error(error)
            return self._page(request, form, business_date, status=400)
        response = StreamingHttpResponse(loan_tape_pieces(rows, fmt), content_type=MEDIA_TYPES[fmt])
        response["Content-Disposition"] = (
            f'attachment; filename="loan-tape-{as_of.isoformat()}.{fmt.value}"'
        )
        audit_record(
            action=AuditAction.LOAN_TAPE_EXPORTED,
            request=request,
            object_type="loan_tape",
            object_label=as_of.isoformat(),
            as_of=as_of.isoformat(),
            product=product or "",
            format=fmt.value,
        )
        return response

    def _page(self, request, form, business_date, status: int = 200) -> HttpResponse:
        context = {"form": form, "business_date": business_date, "columns": COLUMNS}
        return render(request, TEMPLATE, context, status=status)
