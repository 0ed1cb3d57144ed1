"""Loan modifications: request, approve, reject."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from lendcore.accounts.permissions import has_staff_permission
from servicing import selectors, services
from servicing.errors import ServicingValidationError

from .common import (
    parse_input,
)


class LoanModifyApi(APIView):
    permission_classes = [has_staff_permission("service_loans")]

    @extend_schema_serializer(component_name="LoanModifyInput")
    class Input(serializers.Serializer):
        annual_rate_pct = serializers.DecimalField(
            max_digits=9, decimal_places=4, required=False, allow_null=True
        )
        remaining_term = serializers.IntegerField(required=False, allow_null=True)
        due_day = serializers.IntegerField(required=False, allow_null=True)
        defer_installments = serializers.IntegerField(required=False, default=0)
        reason = serializers.CharField(max_length=255)
        modification_id = serializers.IntegerField(required=False)
        action = serializers.ChoiceField(
            choices=["request", "approve", "reject"], default="request"
        )

    @extend_schema(
        request=Input,
        responses=inline_serializer(
            "Modification",
            {
                "id": serializers.IntegerField(),
                "status": serializers.CharField(),
                "schedule_version": serializers.IntegerField(allow_null=True),
            },
        ),
    )
    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(self.Input, request.data)
        if data["action"] == "request":
            modification = services.loan_modify(
                loan=loan,
                annual_rate_pct=data.get("annual_rate_pct"),
                remaining_term=data.get("remaining_term"),
                due_day=data.get("due_day"),
                defer_installments=data.get("defer_installments") or 0,
                reason=data["reason"],
                acting_user=request.user,
            )
        else:
            if "modification_id" not in data:
                raise ServicingValidationError.field("modification_id", "Which modification?")
            modification = services.modification_decide(
                loan=loan,
                modification_id=data["modification_id"],
                approve=data["action"] == "approve",
                reason=data["reason"],
                acting_user=request.user,
            )
        code = (
            status.HTTP_201_CREATED
            if modification.status == "applied"
            else status.HTTP_202_ACCEPTED
        )
        if data["action"] == "reject":
            code = status.HTTP_200_OK
        return Response(
            {
                "id": modification.pk,
                "status": modification.status,
                "schedule_version": modification.to_schedule.version
                if modification.to_schedule is not None
                else None,
            },
            status=code,
        )
