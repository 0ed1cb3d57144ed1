"""The loan-tape export: every loan disbursed by a date, as of that date (CSV or Parquet).

Columns: docs/loan_tape.md (one definition, `servicing.loan_tape.COLUMNS`)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action as PolicyAction
from lendcore.api.query import IsoDateField, JsonErrorsOnly, query_params_strict
from lendcore.api.views import ApiView
from lendcore.core.audit import Action, audit_record
from servicing import selectors
from servicing.loan_tape import loan_tape_rows
from servicing.loan_tape_export import (
    CSV_MEDIA_TYPE,
    MEDIA_TYPES,
    PARQUET_MEDIA_TYPE,
    TapeFormat,
    loan_tape_pieces,
)

from .common import parse_input

PRODUCT_MAX = 64
TAPE_200 = "The tape, as `format` asks: CSV (a header row, a row per loan) or a Parquet file."


class LoanTapeApi(ApiView):
    """Every loan disbursed on or before `as_of`, one row each, its balances (from the
    ledger), status, days past due and next installment as of that date. Streamed; the
    columns are in docs/loan_tape.md. Needs a staff role with `view_loans`."""

    permission_classes = [IsAuthenticated, has_staff_permission(PolicyAction.READ_LOAN)]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonErrorsOnly

    class InputSerializer(serializers.Serializer):
        as_of = IsoDateField(required=False)
        product = serializers.CharField(
            required=False, max_length=PRODUCT_MAX, trim_whitespace=False
        )
        format = serializers.ChoiceField(
            choices=[f.value for f in TapeFormat], required=False, default=TapeFormat.CSV.value
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="The tape's date (YYYY-MM-DD), on or before the business date; "
                "the business date when left out.",
            ),
            OpenApiParameter(
                "product",
                {"type": "string", "minLength": 1, "maxLength": PRODUCT_MAX},
                description="Only this product code.",
            ),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=[f.value for f in TapeFormat],
                default=TapeFormat.CSV.value,
                description="csv (text/csv) or parquet (application/vnd.apache.parquet).",
            ),
        ],
        responses={
            (200, CSV_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR, description=TAPE_200),
            (200, PARQUET_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=TAPE_200),
        },
    )
    def get(self, request):
        data = parse_input(self.InputSerializer, query_params_strict(request))
        as_of = data.get("as_of") or selectors.business_date_get()
        fmt = TapeFormat(data["format"])
        # refuses an as_of after the business date (400) before the response starts
        rows = loan_tape_rows(as_of=as_of, product=data.get("product"))
        response = StreamingHttpResponse(loan_tape_pieces(rows, fmt), content_type=MEDIA_TYPES[fmt])
        response["Content-Disposition"] = (
            f'attachment; filename="loan-tape-{as_of.isoformat()}.{fmt.value}"'
        )
        audit_record(
            action=Action.LOAN_TAPE_EXPORTED,
            request=request,
            object_type="loan_tape",
            object_label=as_of.isoformat(),
            as_of=as_of.isoformat(),
            product=data.get("product") or "",
            format=fmt.value,
        )
        return response
