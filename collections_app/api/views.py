"""Collection cases over the API: the list (filters status, bucket, assignee), one case
with its history, and a manager's reassignment. Staff whose role holds work_collections
read; manage_collections reassigns; borrowers see none (403)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from collections_app import selectors
from collections_app.filters import MAX_ID
from collections_app.models import CollectionCase
from collections_app.services.assignment import case_assign
from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import id_field
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.views import ApiView

WORK = has_staff_permission(Action.WORK_COLLECTIONS)
MANAGE = has_staff_permission(Action.MANAGE_COLLECTIONS)


class AssigneeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class CaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    loan_number = serializers.CharField(source="loan.loan_number")
    borrower_name = serializers.CharField(source="loan.borrower.full_name")
    status = serializers.ChoiceField(choices=CollectionCase.Status.choices)
    opened_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    bucket = serializers.CharField()
    dpd = serializers.IntegerField(help_text="Days past due at the last close of business")
    amount_past_due = serializers.DecimalField(max_digits=18, decimal_places=2)
    priority = serializers.DecimalField(
        max_digits=24, decimal_places=2, help_text="Amount past due x days past due"
    )
    assignee = AssigneeOutput(allow_null=True)
    outcome = serializers.CharField()
    reviewed_on = serializers.DateField(help_text="Last business date close of business updated it")


class CaseEventOutput(serializers.Serializer):
    kind = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    business_date = serializers.DateField()
    at = serializers.DateTimeField()
    details = serializers.DictField(
        source="data",
        help_text="opened: dpd, bucket; assigned/reassigned: from, to; "
        "bucket_changed: from, to, dpd; cured/closed: loan_status",
    )


class CaseDetailOutput(CaseOutput):
    events = CaseEventOutput(many=True)


class CaseAssignInput(serializers.Serializer):
    assignee = id_field(help_text="A user whose role holds work_collections")


CASE_FILTER_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=CollectionCase.Status.values),
    OpenApiParameter("bucket", {"type": "string", "maxLength": 16}, description="Bucket code"),
    OpenApiParameter(
        "assignee",
        {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {"type": "string", "enum": ["me"]},
            ]
        },
        description="A user id, or `me`",
    ),
]


def _detail(case: CollectionCase) -> dict:
    body = CaseOutput(case).data
    body["events"] = CaseEventOutput(selectors.case_events(case), many=True).data
    return body


class CaseListApi(ApiView):
    permission_classes = [WORK]
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(parameters=CASE_FILTER_PARAMETERS, responses=CaseOutput(many=True))
    def get(self, request):
        qs = selectors.case_list(user=request.user, filters=request.query_params)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(CaseOutput(page, many=True).data)


class CaseDetailApi(ApiView):
    permission_classes = [WORK]

    @extend_schema(responses=CaseDetailOutput)
    def get(self, request, case_id: int):
        return Response(_detail(selectors.case_get(case_id=case_id)))


class CaseAssignApi(ApiView):
    """Give an open case to a collector (409 for a case no longer open)."""

    permission_classes = [MANAGE]

    @extend_schema(request=CaseAssignInput, responses=CaseDetailOutput)
    def post(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)
        serializer = CaseAssignInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_assign(
            case=case,
            assignee_id=serializer.validated_data["assignee"],
            acting_user=request.user,
            on=selectors.today(),
        )
        return Response(_detail(selectors.case_get(case_id=case.pk)))
