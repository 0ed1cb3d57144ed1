"""Fees: list, assess, waive."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from lendcore.accounts.permissions import CanReadLoans, has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField, money_field
from lendcore.api.views import ApiView
from lendcore.finance.money import CENT
from servicing import selectors, services
from servicing.models import Fee

from .common import (
    FeeOutput,
    money_out,
    parse_input,
    require_staff,
)


class LoanFeesApi(ApiView):
    permission_classes = [CanReadLoans]

    @extend_schema_serializer(component_name="LoanFeesInput")
    class Input(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Fee.Kind.choices, default=Fee.Kind.MANUAL)
        amount = money_field(min_value=CENT)
        reason = StrictCharField(max_length=255)

    @extend_schema(responses=inline_serializer("LoanFees", {"results": FeeOutput(many=True)}))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        return Response({"results": FeeOutput(selectors.loan_fees(loan=loan), many=True).data})

    @extend_schema(request=Input, responses={201: FeeOutput})
    def post(self, request, loan_id: int):
        require_staff(request.user, Action.MANAGE_FEES)
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(self.Input, request.data)
        fee = services.fee_assess(
            loan=loan,
            kind=data["kind"],
            amount=data["amount"],
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(FeeOutput(fee).data, status=status.HTTP_201_CREATED)


class FeeWaiveApi(ApiView):
    permission_classes = [has_staff_permission(Action.MANAGE_FEES)]

    @extend_schema_serializer(component_name="FeeWaiveInput")
    class Input(serializers.Serializer):
        amount = money_field(
            min_value=CENT,
            required=False,
            allow_null=True,
            help_text="Omit (or null) to waive all that is outstanding.",
        )
        reason = StrictCharField(max_length=255)

    @extend_schema(
        request=Input,
        responses=inline_serializer(
            "FeeWaiver",
            {
                "id": StrictIntegerField(),
                "amount": money_out(),
                "reason": StrictCharField(),
                "fee": FeeOutput(),
            },
        ),
    )
    def post(self, request, fee_id: int):
        fee = selectors.fee_get(user=request.user, fee_id=fee_id)
        data = parse_input(self.Input, request.data)
        waiver = services.fee_waive(
            fee=fee, amount=data.get("amount"), reason=data["reason"], acting_user=request.user
        )
        fee.refresh_from_db()
        return Response(
            {
                "id": waiver.pk,
                "amount": str(waiver.amount),
                "reason": waiver.reason,
                "fee": FeeOutput(fee).data,
            },
            status=status.HTTP_200_OK,
        )
