"""The general-ledger export (CSV)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework.permissions import IsAuthenticated

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action as PolicyAction
from lendcore.api.views import ApiView
from lendcore.core.audit import Action, audit_record
from lendcore.core.csv_export import csv_write
from servicing import selectors
from servicing.errors import ServicingValidationError
from servicing.models import JournalLine

GL_CSV_HEADER = [
    "entry_id",
    "business_date",
    "effective_date",
    "entry_type",
    "loan_number",
    "reference",
    "account",
    "account_name",
    "debit",
    "credit",
    "reverses_entry_id",
    "memo",
]


def gl_csv_rows(lines: Iterable[JournalLine]) -> Iterator[list[Any]]:
    for line in lines:
        entry = line.entry
        yield [
            entry.pk,
            entry.business_date.isoformat(),
            entry.effective_date.isoformat(),
            entry.entry_type,
            line.loan.loan_number if line.loan is not None else "",
            entry.reference,
            line.account,
            line.get_account_display(),
            f"{line.debit:.2f}",
            f"{line.credit:.2f}",
            entry.reverses_id or "",
            entry.memo,
        ]


class GlExportApi(ApiView):
    permission_classes = [IsAuthenticated, has_staff_permission(PolicyAction.EXPORT_GL)]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        fields = {}
        parsed = {}
        for name in ("from", "to"):
            raw = request.query_params.get(name, "")
            try:
                parsed[name] = date.fromisoformat(raw)
            except ValueError:
                fields[name] = ["Enter a date as YYYY-MM-DD."]
        if not fields and parsed["from"] > parsed["to"]:
            fields["to"] = ["Must be on or after 'from'."]
        if not fields and parsed["to"] - parsed["from"] > timedelta(days=366):
            fields["to"] = ["At most one year per export."]
        if fields:
            raise ServicingValidationError.for_fields(fields, message="Invalid export range.")
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="gl-{parsed["from"]}-{parsed["to"]}.csv"'
        )
        lines = selectors.gl_lines(date_from=parsed["from"], date_to=parsed["to"])
        # formulas neutralised: references and memos are typed by people (csv_export)
        csv_write(response, GL_CSV_HEADER, gl_csv_rows(lines.iterator(chunk_size=5000)))
        audit_record(
            action=Action.GL_EXPORTED,
            request=request,
            object_type="gl",
            object_label=f"{parsed['from']} to {parsed['to']}",
            date_from=str(parsed["from"]),
            date_to=str(parsed["to"]),
        )
        return response
