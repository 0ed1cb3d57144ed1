"""Portfolio imports: upload a loans CSV (and a payments CSV), follow the job, retry a failure.

The upload answers 202 with the job as soon as it is recorded: the files are validated and
boarded by a Celery task, so a bad row is not a 400 but the job's `failed` status with the
report (`report`: file, row, column, code, message). A 400 is a bad request itself (no file,
a bad flag). Admins only (`import_loans`).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictIntegerField
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.views import ApiView
from origination import selectors
from origination.api.views._common import parse
from origination.models import LoanImport
from origination.services import loan_import

IMPORT_PERMISSION = has_staff_permission(Action.IMPORT_LOANS)


class LoanImportErrorOutput(serializers.Serializer):
    file = serializers.ChoiceField(choices=["loans", "payments"])
    row = StrictIntegerField(help_text="The file's line: the header is 1, data from 2.")
    column = serializers.CharField(allow_null=True, help_text="None: the whole row or file.")
    code = serializers.CharField()
    message = serializers.CharField()


class LoanImportOutput(serializers.ModelSerializer):
    # not `errors`: a serializer's own attribute
    report = LoanImportErrorOutput(
        many=True, source="errors", help_text="The errors by row and column (the first 10,000)."
    )

    class Meta:
        model = LoanImport
        fields = [
            "id",
            "status",
            "file_name",
            "valid_only",
            "dry_run",
            "total_rows",
            "validated_rows",
            "imported_rows",
            "error_rows",
            "report",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]


class LoanImportListOutput(serializers.ModelSerializer):
    class Meta:
        model = LoanImport
        fields = [
            "id",
            "status",
            "file_name",
            "total_rows",
            "imported_rows",
            "error_rows",
            "message",
            "created_at",
            "finished_at",
        ]


class LoanImportListCreateApi(ApiView):
    permission_classes = [IMPORT_PERMISSION]
    parser_classes = [MultiPartParser]
    pagination_class = BoundedLimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="The loans CSV (docs/import.md), UTF-8.")
        payments_file = serializers.FileField(
            required=False, help_text="The payment history CSV (optional)."
        )
        valid_only = serializers.BooleanField(
            required=False, default=False, help_text="Import the valid rows, report the others."
        )
        dry_run = serializers.BooleanField(
            required=False, default=False, help_text="Validate only; import nothing."
        )

    @extend_schema(responses=LoanImportListOutput(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.loan_import_list(), request, view=self)
        return paginator.get_paginated_response(LoanImportListOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: LoanImportOutput})
    def post(self, request: Request) -> Response:
        data = parse(self.InputSerializer, request.data)
        payments = data.get("payments_file")
        job = loan_import.loan_import_create(
            content=data["file"].read(),
            payments_content=payments.read() if payments is not None else None,
            file_name=data["file"].name or "",
            valid_only=data["valid_only"],
            dry_run=data["dry_run"],
            acting_user=request.user,
        )
        job = selectors.loan_import_get(import_id=job.pk)
        return Response(LoanImportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class LoanImportDetailApi(ApiView):
    permission_classes = [IMPORT_PERMISSION]

    @extend_schema(responses=LoanImportOutput)
    def get(self, request: Request, import_id: int) -> Response:
        return Response(LoanImportOutput(selectors.loan_import_get(import_id=import_id)).data)


class LoanImportRetryApi(ApiView):
    permission_classes = [IMPORT_PERMISSION]

    @extend_schema(request=None, responses={202: LoanImportOutput})
    def post(self, request: Request, import_id: int) -> Response:
        job = selectors.loan_import_get(import_id=import_id)
        loan_import.loan_import_retry(job=job, acting_user=request.user)
        job = selectors.loan_import_get(import_id=import_id)
        return Response(LoanImportOutput(job).data, status=status.HTTP_202_ACCEPTED)
