"""Loans: the list (filtered by `servicing.filters.LoanFilter`), one loan, its schedule,
transactions and journal."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from lendcore.accounts.permissions import CanReadLoans, has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField, external_id_field
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.query import query_params_strict
from lendcore.api.views import ApiView, external_id_resolve
from lendcore.core.external_ids import MAX_LENGTH as EXTERNAL_ID_MAX
from servicing import loan_history, selectors, services
from servicing.filters import DPD_MAX, MAX_ID
from servicing.loan_as_of import loan_as_of
from servicing.models import Installment, Loan

from .common import (
    LoanDetailOutput,
    loan_body,
    money_out,
    parse_input,
    render,
)
from .loan_as_of import AsOfInput, LoanAsOfOutput

LOAN_FILTER_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=Loan.Status.values),
    OpenApiParameter("product", {"type": "string", "minLength": 1}, description="A product code"),
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
    OpenApiParameter(
        "external_id",
        {"type": "string", "minLength": 1, "maxLength": EXTERNAL_ID_MAX},
        description="Your own id for the loan (exact)",
    ),
    OpenApiParameter(
        "q",
        {"type": "string", "minLength": 1},
        description="Every word (up to five) matches the loan number or the borrower's first "
        "name, last name or e-mail",
    ),
]


class LoanListApi(ApiView):
    permission_classes = [CanReadLoans]

    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(parameters=LOAN_FILTER_PARAMETERS, responses=LoanDetailOutput(many=True))
    def get(self, request):
        on = selectors.business_date_get()
        qs = selectors.loan_list(user=request.user, filters=request.query_params, on=on)
        paginator = self.pagination_class()
        page: list[Loan] = paginator.paginate_queryset(qs.order_by("id"), request, view=self) or []
        balances = selectors.loan_balances_many(page, on=on)
        return paginator.get_paginated_response(
            [loan_body(loan, balances[loan.pk]) for loan in page]
        )


class LoanDetailApi(ApiView):
    """The loan today (`Loan`) or, with `as_of`, as the books stood at the close of that
    business date (`LoanAsOf`: balances, status, days past due, bucket, next due, schedule)."""

    permission_classes = [CanReadLoans]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="A past business date (YYYY-MM-DD), from the disbursement date to "
                "the business date: the answer is then a `LoanAsOf`.",
            )
        ],
        responses=PolymorphicProxySerializer(
            component_name="LoanOrLoanAsOf",
            serializers=[LoanDetailOutput, LoanAsOfOutput],
            resource_type_field_name=None,
        ),
    )
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        if "as_of" not in request.query_params:
            return Response(loan_body(loan, selectors.loan_balances(loan)))
        params = query_params_strict(request)
        as_of = parse_input(AsOfInput, {"as_of": params["as_of"]})["as_of"]
        return Response(render(LoanAsOfOutput, loan_as_of(loan, as_of)))


class LoanByExternalIdApi(ApiView):
    """The loan you named `external_id` (`PUT /loans/{id}/external-id/`)."""

    permission_classes = [CanReadLoans]

    @extend_schema(responses=LoanDetailOutput)
    def get(self, request, external_id: str):
        loan_id = external_id_resolve(Loan, request, external_id)
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        return Response(loan_body(loan, selectors.loan_balances(loan)))


class LoanExternalIdApi(ApiView):
    """Names the loan with your own id (unique among your loans), or clears it (null)."""

    permission_classes = [has_staff_permission(Action.POST_PAYMENT)]

    class InputSerializer(serializers.Serializer):
        external_id = external_id_field(allow_null=True)

    @extend_schema(request=InputSerializer, responses=LoanDetailOutput)
    def put(self, request, loan_id: int):
        data = parse_input(self.InputSerializer, request.data)
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        loan = services.loan_external_id_set(
            loan=loan, external_id=data["external_id"], acting_user=request.user
        )
        return Response(loan_body(loan, selectors.loan_balances(loan)))


class LoanScheduleApi(ApiView):
    permission_classes = [CanReadLoans]

    @extend_schema_serializer(component_name="LoanScheduleOutput")
    class Output(serializers.Serializer):
        number = StrictIntegerField()
        due_date = serializers.DateField()
        principal_due = money_out()
        interest_due = money_out()
        fee_due = money_out()
        total_due = money_out()
        principal_paid = money_out()
        interest_paid = money_out()
        fee_paid = money_out()
        cancelled = money_out()
        remaining = money_out()
        principal_true_up = money_out(
            help_text="What true-ups added to (or, negative, took from) the schedule's "
            "principal: the final installment bills the loan's actual balance."
        )
        interest_true_up = money_out(
            help_text="Likewise for interest: past maturity, the final installment bills the "
            "interest accrued through the business date."
        )
        status = StrictCharField()
        paid_on = serializers.DateField(allow_null=True)

    @extend_schema(
        responses=inline_serializer(
            "LoanSchedule",
            {
                "loan_number": StrictCharField(),
                "version": StrictIntegerField(),
                "regular_payment": money_out(),
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


class LoanTransactionsApi(ApiView):
    permission_classes = [CanReadLoans]

    @extend_schema_serializer(component_name="LoanTransactionsOutput")
    class Output(serializers.Serializer):
        kind = StrictCharField()
        id = StrictIntegerField()
        date = serializers.DateField()
        amount = money_out()
        status = StrictCharField()
        description = StrictCharField()
        allocation = serializers.DictField(child=money_out(), allow_null=True)

    @extend_schema(responses=inline_serializer("LoanTransactions", {"results": Output(many=True)}))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        rows = loan_history.loan_transactions(loan=loan)
        return Response({"results": self.Output(rows, many=True).data})


class LoanJournalApi(ApiView):
    permission_classes = [has_staff_permission(Action.READ_LOAN)]
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema_serializer(component_name="LoanJournalLineOutput")
    class LineOutput(serializers.Serializer):
        account = StrictCharField()
        account_name = StrictCharField(source="get_account_display")
        debit = money_out()
        credit = money_out()

    @extend_schema_serializer(component_name="LoanJournalOutput")
    class Output(serializers.Serializer):
        id = StrictIntegerField()
        entry_type = StrictCharField()
        business_date = serializers.DateField()
        effective_date = serializers.DateField()
        reference = StrictCharField()
        memo = StrictCharField()
        reverses_id = StrictIntegerField(allow_null=True)
        created_by_id = StrictIntegerField(allow_null=True)
        lines = serializers.SerializerMethodField()

        def get_lines(self, entry) -> Any:
            return LoanJournalApi.LineOutput(entry.lines.all(), many=True).data

    @extend_schema(responses=Output(many=True))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.loan_journal(loan=loan), request, view=self)
        return paginator.get_paginated_response(self.Output(page, many=True).data)
