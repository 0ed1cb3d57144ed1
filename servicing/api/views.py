"""Servicing API: one APIView per operation; parse, check permission, call one service."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from lendcore.accounts.permissions import TokenAuthentication, has_staff_permission
from lendcore.accounts.roles import perm
from lendcore.accounts.selectors import user_is_staff_member
from lendcore.api.fields import money_field
from lendcore.api.idempotency import idempotent_response, idempotent_response_atomic
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.errors import PermissionDenied
from lendcore.finance.money import CENT
from servicing import rail_payments, selectors, services
from servicing.errors import ErrorCode, ServicingValidationError
from servicing.models import BORROWER_METHODS, Fee, Installment, Loan, Payment, RailTransfer

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}
# The widest days-past-due filter (a century): a larger one overflowed the date arithmetic.
DPD_MAX = 36500
# The largest key of a 64-bit integer column: a larger id overflows the database driver.
MAX_ID = 2**63 - 1


def _money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, **kwargs)


def _require(user, codename: str) -> None:
    if not (user_is_staff_member(user) and user.has_perm(perm(codename))):
        raise PermissionDenied(
            f"This action needs a staff role with: {codename}", code="permission_denied"
        )


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --------------------------------------------------------------------------- output shapes


class LoanOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_number = serializers.CharField()
    status = serializers.CharField()
    borrower_id = serializers.IntegerField()
    borrower_name = serializers.CharField(source="borrower.full_name")
    product_code = serializers.CharField()
    product_name = serializers.CharField()
    product_version = serializers.IntegerField()
    interest_model = serializers.CharField()
    principal_amount = _money_field()
    annual_rate_pct = serializers.DecimalField(max_digits=9, decimal_places=4)
    apr = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    n_periods = serializers.IntegerField()
    frequency = serializers.CharField()
    day_count = serializers.CharField()
    disbursed_on = serializers.DateField()
    maturity_date = serializers.DateField()
    delinquent = serializers.BooleanField()
    in_hardship = serializers.BooleanField()
    non_accrual = serializers.BooleanField()
    last_accrual_date = serializers.DateField()


@extend_schema_serializer(component_name="Loan")
class LoanDetailOutput(LoanOutput):
    """The loan with its balances (the API's loan shape; money is a string)."""

    principal_balance = _money_field()
    interest_balance = _money_field()
    fees_balance = _money_field()
    credit_balance = _money_field()
    total_due = _money_field()
    payoff_today = _money_field()
    past_due_amount = _money_field()
    dpd = serializers.IntegerField()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = _money_field()


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="One key per intended payment; a retry with the same key and body replays.",
)


def _loan_body(loan: Loan, balances: selectors.LoanBalances) -> dict:
    body = dict(LoanOutput(loan).data)
    money = serializers.DecimalField(**MONEY)
    for name in (
        "principal_balance",
        "interest_balance",
        "fees_balance",
        "credit_balance",
        "total_due",
        "payoff_today",
        "past_due_amount",
        "next_due_amount",
    ):
        body[name] = money.to_representation(getattr(balances, name))
    body["dpd"] = balances.dpd
    body["next_due_date"] = balances.next_due_date.isoformat() if balances.next_due_date else None
    return body


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    amount = _money_field()
    effective_date = serializers.DateField()
    method = serializers.CharField()
    reference = serializers.CharField()
    status = serializers.CharField()
    is_recovery = serializers.BooleanField()
    posted_on = serializers.DateField()
    allocation = serializers.SerializerMethodField()
    reversal_reason = serializers.CharField()
    nsf = serializers.BooleanField()
    reversed_on = serializers.DateField(allow_null=True)

    def get_allocation(self, payment: Payment) -> dict:
        money = serializers.DecimalField(**MONEY)
        return {k: money.to_representation(v) for k, v in payment.allocation.items()}


class FeeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = _money_field()
    paid_amount = _money_field()
    waived_amount = _money_field()
    outstanding = _money_field()
    status = serializers.CharField()
    assessed_on = serializers.DateField()
    reason = serializers.CharField()


# --------------------------------------------------------------------------- business date


class BusinessDateApi(APIView):
    @extend_schema_serializer(component_name="BusinessDateInput")
    class Input(serializers.Serializer):
        business_date = serializers.DateField()

    @extend_schema(
        responses=inline_serializer("BusinessDate", {"business_date": serializers.DateField()})
    )
    def get(self, request):
        return Response({"business_date": selectors.business_date_get().isoformat()})

    @extend_schema(request=Input, responses=Input)
    def put(self, request):
        _require(request.user, "manage_business_date")
        data = _parse(self.Input, request.data)
        row = services.business_date_set(
            business_date=data["business_date"], acting_user=request.user
        )
        return Response({"business_date": row.business_date.isoformat()})


# --------------------------------------------------------------------------- loans


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (NumberFilter takes decimals: "1.5" would be read as 1)."""

    field_class = forms.IntegerField


class LoanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Loan.Status.choices)
    product = django_filters.CharFilter(field_name="product_code")
    delinquent = django_filters.BooleanFilter()
    in_hardship = django_filters.BooleanFilter()
    borrower = IntegerFilter(field_name="borrower_id", min_value=1, max_value=MAX_ID)
    dpd_min = IntegerFilter(method="filter_noop", min_value=0, max_value=DPD_MAX)
    dpd_max = IntegerFilter(method="filter_noop", min_value=0, max_value=DPD_MAX)
    q = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Loan
        fields = ["status", "product", "delinquent", "in_hardship", "borrower"]

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together in `filter_queryset`

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(loan_number__icontains=value)
            | Q(borrower__first_name__icontains=value)
            | Q(borrower__last_name__icontains=value)
            | Q(borrower__email__icontains=value)
        )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        lo, hi = data.get("dpd_min"), data.get("dpd_max")
        if lo is not None or hi is not None:
            queryset = selectors.loans_filter_dpd(
                queryset,
                dpd_min=int(lo) if lo is not None else None,
                dpd_max=int(hi) if hi is not None else None,
            )
        return queryset


LOAN_FILTER_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=Loan.Status.values),
    OpenApiParameter("product", OpenApiTypes.STR),
    OpenApiParameter("delinquent", OpenApiTypes.BOOL),
    OpenApiParameter("in_hardship", OpenApiTypes.BOOL),
    OpenApiParameter("borrower", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
    OpenApiParameter(
        "dpd_min",
        {"type": "integer", "minimum": 0, "maximum": DPD_MAX},
        description="Days past due at least",
    ),
    OpenApiParameter(
        "dpd_max",
        {"type": "integer", "minimum": 0, "maximum": DPD_MAX},
        description="Days past due at most",
    ),
    OpenApiParameter("q", OpenApiTypes.STR, description="Loan number or borrower name"),
]


class LoanListApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(parameters=LOAN_FILTER_PARAMETERS, responses=LoanDetailOutput(many=True))
    def get(self, request):
        on = selectors.business_date_get()
        qs = selectors.loans_with_due(selectors.loans_visible_to(request.user), on=on)
        filterset = LoanFilter(request.query_params, queryset=qs)
        if not filterset.is_valid():
            raise ServicingValidationError.for_fields(
                {k: [str(m) for m in v] for k, v in filterset.errors.items()}
            )
        paginator = self.pagination_class()
        page: list[Loan] = (
            paginator.paginate_queryset(filterset.qs.order_by("id"), request, view=self) or []
        )
        balances = selectors.loan_balances_many(page, on=on)
        return paginator.get_paginated_response(
            [_loan_body(loan, balances[loan.pk]) for loan in page]
        )


class LoanDetailApi(APIView):
    @extend_schema(responses=LoanDetailOutput)
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        return Response(_loan_body(loan, selectors.loan_balances(loan)))


class LoanScheduleApi(APIView):
    @extend_schema_serializer(component_name="LoanScheduleOutput")
    class Output(serializers.Serializer):
        number = serializers.IntegerField()
        due_date = serializers.DateField()
        principal_due = _money_field()
        interest_due = _money_field()
        fee_due = _money_field()
        total_due = _money_field()
        principal_paid = _money_field()
        interest_paid = _money_field()
        fee_paid = _money_field()
        cancelled = _money_field()
        remaining = _money_field()
        principal_true_up = _money_field(
            help_text="What true-ups added to (or, negative, took from) the schedule's "
            "principal: the final installment bills the loan's actual balance."
        )
        interest_true_up = _money_field(
            help_text="Likewise for interest: past maturity, the final installment bills the "
            "interest accrued through the business date."
        )
        status = serializers.CharField()
        paid_on = serializers.DateField(allow_null=True)

    @extend_schema(
        responses=inline_serializer(
            "LoanSchedule",
            {
                "loan_number": serializers.CharField(),
                "version": serializers.IntegerField(),
                "regular_payment": _money_field(),
                "installments": Output(many=True),
            },
        )
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        installments: list[Installment] = selectors.loan_schedule_rows(loan=loan)
        version = installments[0].schedule if installments else None
        return Response(
            {
                "loan_number": loan.loan_number,
                "version": version.version if version else None,
                "regular_payment": str(version.regular_payment) if version else None,
                "installments": self.Output(installments, many=True).data,
            }
        )


class LoanTransactionsApi(APIView):
    @extend_schema_serializer(component_name="LoanTransactionsOutput")
    class Output(serializers.Serializer):
        kind = serializers.CharField()
        id = serializers.IntegerField()
        date = serializers.DateField()
        amount = _money_field()
        status = serializers.CharField()
        description = serializers.CharField()
        allocation = serializers.DictField(child=_money_field(), allow_null=True)

    @extend_schema(responses=inline_serializer("LoanTransactions", {"results": Output(many=True)}))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        rows = selectors.loan_transactions(loan=loan)
        return Response({"results": self.Output(rows, many=True).data})


class LoanJournalApi(APIView):
    permission_classes = [has_staff_permission()]
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema_serializer(component_name="LoanJournalLineOutput")
    class LineOutput(serializers.Serializer):
        account = serializers.CharField()
        account_name = serializers.CharField(source="get_account_display")
        debit = _money_field()
        credit = _money_field()

    @extend_schema_serializer(component_name="LoanJournalOutput")
    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        entry_type = serializers.CharField()
        business_date = serializers.DateField()
        effective_date = serializers.DateField()
        reference = serializers.CharField()
        memo = serializers.CharField()
        reverses_id = serializers.IntegerField(allow_null=True)
        created_by_id = serializers.IntegerField(allow_null=True)
        lines = serializers.SerializerMethodField()

        def get_lines(self, entry) -> Any:
            return LoanJournalApi.LineOutput(entry.lines.all(), many=True).data

    @extend_schema(responses=Output(many=True))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.loan_journal(loan=loan), request, view=self)
        return paginator.get_paginated_response(self.Output(page, many=True).data)


# --------------------------------------------------------------------------- payments


@extend_schema_serializer(component_name="PendingPayment")
class PaymentRequestOutput(serializers.Serializer):
    """A borrower's one-time payment through the payment rail: `requested` until close of
    business sends it (cancellable until then), `pending` until it settles, then `settled`
    (posted as `payment_id`), or `returned` (NSF: nothing posted, the NSF fee charged),
    `failed` (settled but not postable: staff refund it) or `cancelled`."""

    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    amount = _money_field()
    method = serializers.ChoiceField(choices=[(m.value, m.label) for m in BORROWER_METHODS])
    status = serializers.ChoiceField(choices=RailTransfer.Status.choices)
    account_last4 = serializers.CharField(help_text="The last four digits of the account or card.")
    requested_on = serializers.DateField(help_text="The business date it was asked for on.")
    expected_settlement_date = serializers.DateField(
        allow_null=True,
        help_text="The close of business it settles at (once sent, the rail's date); null "
        "when cancelled, or failed before it was sent.",
    )
    cancellable = serializers.BooleanField(help_text="True while not sent yet (`requested`).")
    payment_id = serializers.IntegerField(
        allow_null=True, help_text="The posted payment, once settled; else null."
    )
    return_code = serializers.CharField(help_text='The rail\'s return code ("R01"), or "".')


def _payment_request_body(transfer: RailTransfer, *, today: date) -> dict[str, Any]:
    row = rail_payments.payment_request_rows([transfer], today=today)[0]
    return dict(PaymentRequestOutput(row).data)


def _fingerprint_payload(data: Any) -> Any:
    """The request body as the idempotency fingerprint keeps it: an account number only as
    a keyed hash."""
    if not isinstance(data, dict) and hasattr(data, "dict"):
        data = data.dict()  # a form-encoded QueryDict
    if isinstance(data, dict) and data.get("account_number"):
        return {**data, "account_number": rail_payments.account_fingerprint(data["account_number"])}
    return data


class PaymentCreateApi(APIView):
    """Staff post a payment received (201, the posted payment). A borrower asks for a
    one-time debit of their bank account or debit card through the payment rail (202, the
    pending payment): close of business sends it and posts it once it settles."""

    # the settings' classes, in their order, with the one-query token lookup
    authentication_classes = [SessionAuthentication, TokenAuthentication]

    @extend_schema_serializer(component_name="PaymentCreateInput")
    class Input(serializers.Serializer):
        amount = money_field(
            min_value=CENT,
            help_text="Borrowers: at most today's payoff, less their payments not settled yet.",
        )
        effective_date = serializers.DateField(
            required=False,
            help_text="Defaults to the business date. Staff may backdate within the window; "
            "a borrower's payment is dated the business date (any other date is refused).",
        )
        method = serializers.ChoiceField(
            choices=Payment.Method.choices,
            help_text="Staff: any method. Borrowers: ach (bank account) or debit_card only, "
            "debited through the payment rail; cash, check and wire are refused.",
        )
        reference = serializers.CharField(
            max_length=128,
            required=False,
            allow_blank=True,
            help_text="Staff only (a borrower's payment is referenced RAIL-<id>; ignored).",
        )
        allow_credit = serializers.BooleanField(
            default=False,
            help_text="Staff only: post an amount above today's payoff, the rest held as the "
            "borrower's refundable credit balance (refused without it). Borrowers: false.",
        )
        account_number = serializers.CharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=40,
            help_text="Borrowers: required. ach: the bank account number, 4 to 17 digits; "
            "debit_card: the card number, 13 to 19 digits (spaces and dashes ignored). Stored "
            "encrypted, shown as its last four digits. Staff: not used.",
        )
        routing_number = serializers.CharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=40,
            help_text="Borrowers paying by ach: required, the bank's 9-digit routing number. "
            "Otherwise not used.",
        )

    @extend_schema(
        responses=inline_serializer("LoanPayments", {"results": PaymentOutput(many=True)})
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        return Response(
            {"results": PaymentOutput(selectors.loan_payments(loan=loan), many=True).data}
        )

    @extend_schema(
        request=Input,
        responses={201: PaymentOutput, 202: PaymentRequestOutput},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, loan_id: int):
        user = request.user
        staff = user_is_staff_member(user)
        if staff:
            _require(user, "service_loans")
        loan = selectors.loan_get_for_write(user=user, loan_id=loan_id)
        execute = self._staff_post if staff else self._borrower_request
        return idempotent_response_atomic(
            request,
            scope=f"servicing.payment:{loan.pk}",
            payload=_fingerprint_payload(request.data),
            execute=lambda claim: execute(claim, loan),
        )

    def _staff_post(self, claim, loan: Loan) -> None:
        data = _parse(self.Input, self.request.data)
        services.payment_post(
            loan=loan,
            amount=data["amount"],
            effective_date=data.get("effective_date"),  # None: the business date
            method=data["method"],
            reference=data.get("reference", ""),
            acting_user=self.request.user,
            allow_credit=data["allow_credit"],
            # the answer commits with the payment (one transaction, see payment_post)
            on_posted=lambda payment: claim.record(
                status.HTTP_201_CREATED, dict(PaymentOutput(payment).data)
            ),
        )

    def _borrower_request(self, claim, loan: Loan) -> None:
        data = _parse(self.Input, self.request.data)
        if data["allow_credit"]:
            raise ServicingValidationError.field(
                "allow_credit", "Staff only: a borrower pays at most today's payoff."
            )
        rail_payments.payment_request_create(
            loan=loan,
            amount=data["amount"],
            method=data["method"],
            account_number=data.get("account_number", ""),
            routing_number=data.get("routing_number", ""),
            acting_user=self.request.user,
            business_date=data.get("effective_date"),
            # the answer commits with the request
            on_created=lambda transfer: claim.record(
                status.HTTP_202_ACCEPTED,
                _payment_request_body(transfer, today=transfer.business_date),
            ),
        )


class LoanPaymentRequestsApi(APIView):
    """The loan's one-time payments through the rail (any status), newest first."""

    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(responses=PaymentRequestOutput(many=True))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            rail_payments.loan_payment_requests(loan=loan), request, view=self
        )
        rows = rail_payments.payment_request_rows(page or [], today=selectors.business_date_get())
        return paginator.get_paginated_response(PaymentRequestOutput(rows, many=True).data)


class PaymentRequestCancelApi(APIView):
    """Cancel a one-time payment not sent yet (the loan's borrower, or staff with
    service_loans); 409 once close of business sent it."""

    @extend_schema(
        request=None,
        responses=PaymentRequestOutput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Optional: a retry with the same key replays the first answer.",
            )
        ],
    )
    def post(self, request, transfer_id: int):
        transfer = rail_payments.payment_request_get_visible(
            user=request.user, transfer_id=transfer_id
        )

        def execute():
            cancelled = rail_payments.payment_request_cancel(
                transfer=transfer, acting_user=request.user
            )
            body = _payment_request_body(cancelled, today=selectors.business_date_get())
            return status.HTTP_200_OK, body

        return idempotent_response(
            request,
            scope=f"servicing.payment_request_cancel:{transfer.pk}",
            payload=request.data,
            execute=execute,
            required=False,
        )


class PaymentReverseApi(APIView):
    permission_classes = [has_staff_permission("service_loans")]

    @extend_schema_serializer(component_name="PaymentReverseInput")
    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=255)
        nsf = serializers.BooleanField(default=False)

    @extend_schema(request=Input, responses=PaymentOutput)
    def post(self, request, payment_id: int):
        payment = selectors.payment_get_visible(user=request.user, payment_id=payment_id)

        def execute():
            data = _parse(self.Input, request.data)
            reversed_payment = services.payment_reverse(
                payment=payment, reason=data["reason"], nsf=data["nsf"], acting_user=request.user
            )
            return status.HTTP_200_OK, PaymentOutput(reversed_payment).data

        return idempotent_response(
            request,
            scope=f"servicing.reverse:{payment.pk}",
            payload=request.data,
            execute=execute,
            required=False,
        )


# --------------------------------------------------------------------------- payoff, fees


@extend_schema_serializer(component_name="PayoffQuote")
class PayoffQuoteOutput(serializers.Serializer):
    loan_id = serializers.IntegerField()
    loan_number = serializers.CharField()
    quote_date = serializers.DateField()
    good_through = serializers.DateField()
    principal = _money_field()
    interest = _money_field()
    fees = _money_field()
    credit = _money_field()
    payoff_amount = _money_field()
    per_diem = _money_field()


class PayoffQuoteApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Up to 30 days ahead")],
        responses=PayoffQuoteOutput,
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        raw = request.query_params.get("date")
        on = None
        if raw:
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


class LoanFeesApi(APIView):
    @extend_schema_serializer(component_name="LoanFeesInput")
    class Input(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Fee.Kind.choices, default=Fee.Kind.MANUAL)
        amount = money_field(min_value=CENT)
        reason = serializers.CharField(max_length=255)

    @extend_schema(responses=inline_serializer("LoanFees", {"results": FeeOutput(many=True)}))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        return Response({"results": FeeOutput(selectors.loan_fees(loan=loan), many=True).data})

    @extend_schema(request=Input, responses={201: FeeOutput})
    def post(self, request, loan_id: int):
        _require(request.user, "manage_fees")
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = _parse(self.Input, request.data)
        fee = services.fee_assess(
            loan=loan,
            kind=data["kind"],
            amount=data["amount"],
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(FeeOutput(fee).data, status=status.HTTP_201_CREATED)


class FeeWaiveApi(APIView):
    permission_classes = [has_staff_permission("manage_fees")]

    @extend_schema_serializer(component_name="FeeWaiveInput")
    class Input(serializers.Serializer):
        amount = money_field(
            min_value=CENT,
            required=False,
            allow_null=True,
            help_text="Omit (or null) to waive all that is outstanding.",
        )
        reason = serializers.CharField(max_length=255)

    @extend_schema(
        request=Input,
        responses=inline_serializer(
            "FeeWaiver",
            {
                "id": serializers.IntegerField(),
                "amount": _money_field(),
                "reason": serializers.CharField(),
                "fee": FeeOutput(),
            },
        ),
    )
    def post(self, request, fee_id: int):
        fee = selectors.fee_get(fee_id=fee_id)
        data = _parse(self.Input, request.data)
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


# ------------------------------------------------------------------ modification, charge-off


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
        data = _parse(self.Input, request.data)
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
                "principal": _money_field(),
                "interest": _money_field(),
                "fees": _money_field(),
            },
        ),
    )
    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = _parse(self.Input, request.data)
        action = data["action"]
        if action == "request":
            charge_off = services.charge_off_request(
                loan=loan, reason=data["reason"], acting_user=request.user
            )
            code: int = status.HTTP_202_ACCEPTED
        elif action in ("approve", "reject"):
            _require(request.user, "approve_charge_off")
            charge_off = services.charge_off_decide(
                loan=loan,
                approve=action == "approve",
                reason=data["reason"],
                acting_user=request.user,
            )
            code = status.HTTP_200_OK
        else:
            _require(request.user, "approve_charge_off")
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


# --------------------------------------------------------------------------- statements, GL


class StatementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    opening_balance = _money_field()
    closing_balance = _money_field()
    payments_total = _money_field()
    interest_charged = _money_field()
    fees_charged = _money_field()
    past_due_amount = _money_field()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = _money_field()
    created_at = serializers.DateTimeField()


class LoanStatementsApi(APIView):
    @extend_schema(
        responses=inline_serializer("LoanStatements", {"results": StatementOutput(many=True)})
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        rows = selectors.loan_statements(loan=loan)
        return Response({"results": StatementOutput(rows, many=True).data})


class StatementDownloadApi(APIView):
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


class GlExportApi(APIView):
    permission_classes = [IsAuthenticated, has_staff_permission("view_reports")]

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
        writer = csv.writer(response)
        writer.writerow(
            [
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
        )
        for line in selectors.gl_lines(date_from=parsed["from"], date_to=parsed["to"]).iterator(
            chunk_size=5000
        ):
            entry = line.entry
            writer.writerow(
                [
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
            )
        return response
