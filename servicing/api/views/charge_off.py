"""Charge-off: request, approve, reject, undo."""

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

from .common import (
    money_out,
    parse_input,
    require_staff,
)


class LoanChargeOffApi(APIView):
    permission_classes = [has_staff_permission("service_loans")]

    @extend_schema_serializer(component_name="LoanChargeOffInput")
    class Input(serializers.Serializer):
        action = serializers.ChoiceField(
            choices=["request", "approve", "reject", "undo"], default="request"
        )
        reason = serializers.CharField(max_length=255)

    @extend_schema(
        request=Input,
        responses=inline_serializer(
            "ChargeOff",
            {
                "id": serializers.IntegerField(),
                "status": serializers.CharField(),
                "loan_status": serializers.CharField(),
                "principal": money_out(),
                "interest": money_out(),
                "fees": money_out(),
            },
        ),
    )
    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(self.Input, request.data)
        action = data["action"]
        if action == "request":
            charge_off = services.charge_off_request(
                loan=loan, reason=data["reason"], acting_user=request.user
            )
            code: int = status.HTTP_202_ACCEPTED
        elif action in ("approve", "reject"):
            require_staff(request.user, "approve_charge_off")
            charge_off = services.charge_off_decide(
                loan=loan,
                approve=action == "approve",
                reason=data["reason"],
                acting_user=request.user,
            )
            code = status.HTTP_200_OK
        else:
            require_staff(request.user, "approve_charge_off")
            charge_off = services.charge_off_undo(
                loan=loan, reason=data["reason"], acting_user=request.user
            )
            code = status.HTTP_200_OK
        loan.refresh_from_db()
        return Response(
            {
                "id": charge_off.pk,
                "status": charge_off.status,
                "loan_status": loan.status,
                "principal": str(charge_off.principal),
                "interest": str(charge_off.interest),
                "fees": str(charge_off.fees),
            },
            status=code,
        )
