"""The payoff quote."""

from __future__ import annotations

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from lendcore.accounts.permissions import CanReadLoans
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.views import ApiView
from servicing import selectors
from servicing.errors import ErrorCode, ServicingValidationError

from .common import (
    MONEY,
    money_out,
)


@extend_schema_serializer(component_name="PayoffQuote")
class PayoffQuoteOutput(serializers.Serializer):
    loan_id = StrictIntegerField()
    loan_number = StrictCharField()
    quote_date = serializers.DateField()
    good_through = serializers.DateField()
    principal = money_out()
    interest = money_out()
    fees = money_out()
    credit = money_out()
    payoff_amount = money_out()
    per_diem = money_out()


class PayoffQuoteApi(ApiView):
    permission_classes = [CanReadLoans]
    extra_error_codes = ("409",)  # a loan paid off or charged off has nothing to pay off

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Up to 30 days ahead")],
        responses=PayoffQuoteOutput,
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        raw = request.query_params.get("date")
        on = None
        if raw is not None:  # "?date=" is a date left out by mistake, not "today"
            try:
                on = date.fromisoformat(raw)
            except ValueError:
                raise ServicingValidationError.field(
                    "date", "Enter a date as YYYY-MM-DD.", code=ErrorCode.INVALID_DATE
                ) from None
        quote = selectors.payoff_quote(loan=loan, on=on)
        money = serializers.DecimalField(**MONEY)
        body = {
            "loan_id": quote.loan_id,
            "loan_number": quote.loan_number,
            "quote_date": quote.quote_date.isoformat(),
            "good_through": quote.good_through.isoformat(),
        }
        for name in ("principal", "interest", "fees", "credit", "payoff_amount", "per_diem"):
            body[name] = money.to_representation(getattr(quote, name))
        return Response(body)
