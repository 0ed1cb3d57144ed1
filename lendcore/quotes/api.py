"""`POST /api/v1/quotes/` and `POST /api/v1/apr/`: anonymous, throttled, one APIView each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from lendcore.api.fields import StrictCharField, StrictIntegerField, decimal_field, money_field
from lendcore.api.views import ApiView, Idempotency
from lendcore.finance.dates import add_months
from lendcore.finance.money import round_money

from . import services


# Output amounts are already rounded by the kernel; no digit cap, so nothing can overflow here.
class _DecimalSpec(TypedDict):
    max_digits: int | None
    decimal_places: int


MONEY: _DecimalSpec = {"max_digits": None, "decimal_places": 2}


def _money_in(**kwargs: Any) -> serializers.DecimalField:
    """A money amount: more than 0, at most the principal limit (below MONEY_MAX), 2 decimals."""
    return money_field(min_value=Decimal("0.01"), max_value=services.MAX_PRINCIPAL, **kwargs)


@extend_schema_field(
    {"type": "string", "format": "date", "pattern": r"^(?:19|2\d)\d{2}-\d{2}-\d{2}$"}
)
class QuoteDateField(serializers.DateField):
    """A date of a quote: from 1900-01-01 to 2999-12-31 (`services.MIN_DATE`, `MAX_DATE`),
    the schema's pattern bounding the year as `_check_date` does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[_check_date], **kwargs)


def _check_date(value):
    if message := services.date_error(value):
        raise serializers.ValidationError(message)
    return value


def _apr_exact(value: Decimal) -> str:
    return str(round_money(value, services.APR_EXACT_PLACES))


class _SiblingMixin:
    """Cross-field rules run with the field checks, so one answer names every bad field."""

    def sibling(self, name: str) -> Any:
        """The parsed value of another field, or None when it is missing or itself invalid."""
        raw = self.initial_data.get(name, empty)  # type: ignore[attr-defined]
        try:
            return self.fields[name].run_validation(raw)  # type: ignore[attr-defined]
        except serializers.ValidationError:
            return None


class QuoteApi(ApiView):
    """Payment, schedule and Truth in Lending figures (APR, finance charge) for loan terms."""

    idempotency = Idempotency.NONE
    idempotency_exempt_reason = "changes nothing: a calculation"

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "quote"

    @extend_schema_serializer(component_name="QuoteTerms")
    class InputSerializer(_SiblingMixin, serializers.Serializer):
        @extend_schema_serializer(component_name="QuoteFee")
        class FeeSerializer(serializers.Serializer):
            name = StrictCharField(max_length=100)
            amount = _money_in()
            kind = serializers.ChoiceField(choices=list(services.FEE_KINDS.items()))

        principal = _money_in(help_text='The amount asked for, e.g. "10000.00".')
        annual_rate = decimal_field(
            places=4,
            min_value=Decimal("0"),
            max_value=services.MAX_RATE_PCT,
            help_text='Nominal rate in percent a year, e.g. "7.5".',
        )
        term = StrictIntegerField(
            min_value=1, max_value=services.MAX_TERM, help_text="Number of payments."
        )
        frequency = serializers.ChoiceField(choices=list(services.FREQUENCIES.items()))
        amortization = serializers.ChoiceField(
            choices=list(services.AMORTIZATIONS.items()), default="level"
        )
        interest_method = serializers.ChoiceField(
            choices=list(services.INTEREST_METHODS.items()), default="declining"
        )
        day_count = serializers.ChoiceField(
            choices=list(services.DAY_COUNTS.items()), default="30/360"
        )
        disbursement_date = QuoteDateField()
        first_due_date = QuoteDateField(required=False, allow_null=True, default=None)
        payment_rounding = decimal_field(
            places=2,
            min_value=Decimal("0.01"),
            max_value=Decimal("99999999.99"),
            default=Decimal("0.01"),
            help_text='Installments are rounded to a multiple of this, e.g. "0.01" or "1".',
        )
        # many=True hands max_length to the ListSerializer (not in DRF's stubs)
        fees = FeeSerializer(many=True, default=list, max_length=services.MAX_FEES)  # type: ignore[call-arg]

        def validate_first_due_date(self, value):
            disbursed = self.sibling("disbursement_date")
            if value is not None and disbursed is not None:
                message = services.first_due_date_error(
                    disbursement_date=disbursed, first_due_date=value
                )
                if message:
                    raise serializers.ValidationError(message)
            return value

        def validate_fees(self, value):
            principal = self.sibling("principal")
            fees = [services.fee_from(fee) for fee in value]
            if principal is not None and (
                message := services.fees_error(principal=principal, fees=fees)
            ):
                raise serializers.ValidationError(message)
            return fees

    @extend_schema_serializer(component_name="Quote")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="QuoteFee")
        class FeeSerializer(serializers.Serializer):
            name = StrictCharField()
            amount = serializers.DecimalField(**MONEY)
            kind = StrictCharField()

        @extend_schema_serializer(component_name="QuoteInstallment")
        class InstallmentSerializer(serializers.Serializer):
            number = StrictIntegerField()
            due_date = serializers.DateField()
            principal = serializers.DecimalField(**MONEY)
            interest = serializers.DecimalField(**MONEY)
            payment = serializers.DecimalField(**MONEY)
            balance = serializers.DecimalField(**MONEY)

        # The terms, as understood.
        principal = serializers.DecimalField(**MONEY)
        annual_rate = serializers.DecimalField(
            max_digits=None, decimal_places=4, source="annual_rate_pct"
        )
        term = StrictIntegerField()
        frequency = StrictCharField()
        amortization = StrictCharField()
        interest_method = StrictCharField()
        day_count = StrictCharField()
        disbursement_date = serializers.DateField()
        first_due_date = serializers.DateField(allow_null=True)
        payment_rounding = serializers.DecimalField(**MONEY)
        fees = FeeSerializer(many=True)
        # The figures.
        note_principal = serializers.DecimalField(
            **MONEY, help_text="Principal plus financed fees: what the schedule amortizes."
        )
        payment = serializers.DecimalField(**MONEY)
        total_interest = serializers.DecimalField(**MONEY)
        total_of_payments = serializers.DecimalField(**MONEY)
        amount_financed = serializers.DecimalField(**MONEY)
        finance_charge = serializers.DecimalField(**MONEY)
        apr = serializers.DecimalField(
            **MONEY, help_text="Annual percentage rate in percent, as disclosed (2 decimals)."
        )
        apr_exact = serializers.SerializerMethodField(help_text="APR in percent, 6 decimals.")
        installments = InstallmentSerializer(many=True)

        def get_apr_exact(self, quote: services.Quote) -> str:
            return _apr_exact(quote.apr_exact)

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        examples=[
            OpenApiExample(
                "10,000 at 9.9% over 36 months with a prepaid fee",
                request_only=True,
                value={
                    "principal": "10000.00",
                    "annual_rate": "9.9",
                    "term": 36,
                    "frequency": "monthly",
                    "disbursement_date": "2025-01-15",
                    "fees": [{"name": "Origination", "amount": "200.00", "kind": "prepaid"}],
                },
            )
        ],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        quote = services.quote_build(annual_rate_pct=values.pop("annual_rate"), **values)
        return Response(self.OutputSerializer(quote).data)


class AprApi(ApiView):
    """Regulation Z Appendix J annual percentage rate of a payment stream."""

    idempotency = Idempotency.NONE
    idempotency_exempt_reason = "changes nothing: a calculation"

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "quote"

    @extend_schema_serializer(component_name="AprPayments")
    class InputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="AprPayment")
        class PaymentSerializer(serializers.Serializer):
            date = QuoteDateField()
            amount = _money_in()

        amount_financed = _money_in()
        consummation_date = QuoteDateField()
        # many=True hands max_length to the ListSerializer (not in DRF's stubs)
        payments = PaymentSerializer(many=True, allow_empty=False, max_length=services.MAX_TERM * 2)  # type: ignore[call-arg]
        unit = serializers.ChoiceField(
            choices=list(services.APR_UNITS.items()),
            required=False,
            allow_null=True,
            default=None,
            help_text="Unit period; inferred from the payment dates when omitted.",
        )

    @extend_schema_serializer(component_name="Apr")
    class OutputSerializer(serializers.Serializer):
        amount_financed = serializers.DecimalField(**MONEY)
        consummation_date = serializers.DateField()
        unit = StrictCharField(
            help_text='The unit period used; "term" when a single payment within a year makes '
            "the whole term the one unit period (Appendix J (b)(5)(vi)-(vii))."
        )
        unit_periods_per_year = serializers.SerializerMethodField(
            help_text='Unit periods in a year, e.g. "12"; 6 decimals when not whole.'
        )
        apr = serializers.DecimalField(
            **MONEY, help_text="Annual percentage rate in percent, as disclosed (2 decimals)."
        )
        apr_exact = serializers.SerializerMethodField(help_text="APR in percent, 6 decimals.")

        def get_apr_exact(self, result: services.AprResult) -> str:
            return _apr_exact(result.apr_exact)

        def get_unit_periods_per_year(self, result: services.AprResult) -> str:
            per_year = result.unit_periods_per_year
            if per_year.denominator == 1:
                return str(per_year.numerator)
            return str(round_money(per_year, 6))

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        examples=[
            OpenApiExample(
                "Appendix J (c)(1)(i): 24 monthly payments of 230 for 5000 (APR 9.69)",
                request_only=True,
                value={
                    "amount_financed": "5000.00",
                    "consummation_date": "1978-01-10",
                    "payments": [
                        {"date": add_months(date(1978, 2, 10), k).isoformat(), "amount": "230.00"}
                        for k in range(24)
                    ],
                },
            )
        ],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.apr_compute(
            amount_financed=values["amount_financed"],
            consummation_date=values["consummation_date"],
            payments=[(p["date"], p["amount"]) for p in values["payments"]],
            unit=values["unit"],
        )
        return Response(self.OutputSerializer(result).data)
