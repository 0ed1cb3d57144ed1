"""Statements: the loan's list and one PDF."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from lendcore.accounts.permissions import CanReadLoans
from lendcore.api.fields import StrictIntegerField
from lendcore.api.views import ApiView
from servicing import selectors
from servicing.errors import ServicingValidationError

from .common import (
    money_out,
)


class StatementOutput(serializers.Serializer):
    id = StrictIntegerField()
    loan_id = StrictIntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    opening_balance = money_out()
    closing_balance = money_out()
    payments_total = money_out()
    interest_charged = money_out()
    fees_charged = money_out()
    past_due_amount = money_out()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = money_out()
    created_at = serializers.DateTimeField()


class LoanStatementsApi(ApiView):
    permission_classes = [CanReadLoans]

    @extend_schema(
        responses=inline_serializer("LoanStatements", {"results": StatementOutput(many=True)})
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        rows = selectors.loan_statements(loan=loan)
        return Response({"results": StatementOutput(rows, many=True).data})


class StatementDownloadApi(ApiView):
    permission_classes = [CanReadLoans]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, statement_id: int):
        statement = selectors.statement_get_visible(user=request.user, statement_id=statement_id)
        if not statement.pdf:
            raise ServicingValidationError("This statement has no document.", code="no_document")
        return FileResponse(
            statement.pdf.open("rb"),
            as_attachment=True,
            filename=f"{statement.loan.loan_number}-{statement.period_end.isoformat()}.pdf",
            content_type="application/pdf",
        )
