"""`GET /api/v1/reports/{name}/`: any registered report as JSON or CSV (lendcore.core.reports).

Composed here because reports come from several apps; each report says which policy action
it needs (`ReportSpec.action`), on top of `view_reports`.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.query import IsoDateField, JsonErrorsOnly, query_params_strict
from lendcore.api.views import ApiView
from lendcore.core.reports import reports_registered

from .reporting import (
    ReportForbidden,
    ReportNotFound,
    ReportWindowError,
    report_csv,
    report_filters,
    report_for,
    report_json,
    report_run,
)

PRODUCT_MAX = 64
FORMATS = ("json", "csv")

REPORT_BODY = {
    "type": "object",
    "required": ["report", "title", "from", "to", "product", "columns", "rows"],
    "properties": {
        "report": {"type": "string"},
        "title": {"type": "string"},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "product": {"type": "string"},
        "columns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "title", "kind"],
                "properties": {
                    "key": {"type": "string"},
                    "title": {"type": "string"},
                    "kind": {"type": "string", "enum": ["text", "int", "money", "date", "percent"]},
                },
            },
        },
        "rows": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    },
    # the report's summary beside its rows: `total_debit` and `total_credit` of the trial
    # balance and the journal, the totals of the others (money as strings with cents)
    "additionalProperties": True,
}


class ReportApi(ApiView):
    """One report over a window of business dates, as JSON (columns, rows and the report's
    totals) or CSV. Needs a staff role with `view_reports` and the report's own action
    (`export_gl` for the trial balance, the journal and income; `view_loans` for payments)."""

    permission_classes = [IsAuthenticated, has_staff_permission(Action.VIEW_REPORTS)]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonErrorsOnly

    class InputSerializer(serializers.Serializer):
        # `from` is a Python keyword: declared through the class namespace
        vars()["from"] = IsoDateField(required=False)
        to = IsoDateField(required=False)
        product = serializers.CharField(
            required=False, min_length=1, max_length=PRODUCT_MAX, trim_whitespace=False
        )
        format = serializers.ChoiceField(choices=FORMATS, required=False, default="json")

    @extend_schema(
        operation_id="reports_retrieve",
        parameters=[
            OpenApiParameter(
                "name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                # the reports served today (the apps register theirs before URLs load)
                enum=[spec.name for spec in reports_registered()],
            ),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="First business date of the window (YYYY-MM-DD); the report's "
                "default span before `to` when left out. A balance (trial_balance) reads `to`.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                description="Last business date of the window, on or before the business "
                "date; the business date when left out.",
            ),
            OpenApiParameter(
                "product",
                {"type": "string", "minLength": 1, "maxLength": PRODUCT_MAX},
                description="Only loans of this product code.",
            ),
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), default="json"),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(REPORT_BODY, description="The report."),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The rows under the columns' titles."
            ),
            404: OpenApiResponse(description="No such report (yet)."),
            403: OpenApiResponse(description="The role may not run this report."),
        },
    )
    def get(self, request, name: str):
        try:
            spec = report_for(request.user, name)
        except ReportNotFound:
            raise NotFound(f"No report named {name!r}.") from None
        except ReportForbidden as refused:
            raise PermissionDenied(
                f"The report {name!r} needs a staff role with: {refused.action}."
            ) from None
        serializer = self.InputSerializer(data=query_params_strict(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            filters = report_filters(
                spec,
                date_from=data.get("from"),
                date_to=data.get("to"),
                product=data.get("product", ""),
            )
        except ReportWindowError as error:
            raise ValidationError({k: [v] for k, v in error.fields.items()}) from None
        run = report_run(spec, filters)
        if data["format"] == "csv":
            response = HttpResponse(content_type="text/csv")
            response["Content-Disposition"] = (
                f'attachment; filename="{name}-{filters.date_from}-{filters.date_to}.csv"'
            )
            report_csv(response, run)
            return response
        return Response(report_json(run))
