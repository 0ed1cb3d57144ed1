"""Workouts over the API: hardship plans and charge-off recommendations.

Who: collectors and managers (work_collections) request plans and read the lists; a
collector (work_collections and charge_off_loans) recommends a charge-off; a second person
decides: approve_modifications for plans, approve_charge_off for charge-offs (never their
own: 409). Borrowers ask for a plan in the portal, not here (403). State changes take an
Idempotency-Key (required): a retry answers the first response.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination

from collections_app import selectors, workouts_selectors
from collections_app.models import ChargeOffRecommendation, HardshipPlan
from collections_app.services.workouts import (
    MAX_MONTHS,
    REASON_MAX,
    charge_off_recommend,
    hardship_plan_decide,
    hardship_plan_request,
    recommendation_decide,
)
from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.idempotency import IDEMPOTENCY_KEY_REQUIRED, idempotent_response
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.views import ApiView, Idempotency
from lendcore.errors import ValidationFailed
from servicing import selectors as servicing_selectors

WORK = has_staff_permission(Action.WORK_COLLECTIONS)
RECOMMEND = has_staff_permission(Action.WORK_COLLECTIONS, Action.CHARGE_OFF)
APPROVE_PLAN = has_staff_permission(Action.APPROVE_MODIFICATION)
APPROVE_CHARGE_OFF = has_staff_permission(Action.APPROVE_CHARGE_OFF)


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PlanOutput(serializers.Serializer):
    id = StrictIntegerField()
    loan_id = StrictIntegerField()
    case_id = StrictIntegerField()
    kind = serializers.ChoiceField(choices=HardshipPlan.Kind.choices)
    months = StrictIntegerField()
    reason = StrictCharField()
    status = serializers.ChoiceField(choices=HardshipPlan.Status.choices)
    channel = serializers.ChoiceField(choices=HardshipPlan.Channel.choices)
    requested_by_id = StrictIntegerField()
    requested_on = serializers.DateField()
    decided_by_id = StrictIntegerField(allow_null=True)
    decision_reason = StrictCharField()
    modification_id = StrictIntegerField(
        allow_null=True, help_text="Servicing's modification that applied it"
    )
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(
        allow_null=True, help_text="Close of business completes it then if it was kept"
    )
    ended_on = serializers.DateField(allow_null=True)


class RecommendationOutput(serializers.Serializer):
    id = StrictIntegerField()
    case_id = StrictIntegerField()
    loan_id = StrictIntegerField()
    status = serializers.ChoiceField(choices=ChargeOffRecommendation.Status.choices)
    reason = StrictCharField()
    recommended_by_id = StrictIntegerField()
    recommended_on = serializers.DateField()
    dpd = StrictIntegerField(help_text="Days past due when recommended")
    decided_by_id = StrictIntegerField(allow_null=True)
    decision_reason = StrictCharField()
    charge_off_id = StrictIntegerField(allow_null=True, help_text="Servicing's charge-off request")
    charged_off = serializers.DecimalField(max_digits=18, decimal_places=2)
    recovered = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Recoveries as of the last close of business"
    )
    placed_on = serializers.DateField(allow_null=True)
    agency = StrictCharField()


class DecisionInput(serializers.Serializer):
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


def _status_parameter(choices) -> OpenApiParameter:
    return OpenApiParameter("status", OpenApiTypes.STR, enum=list(choices))


def _status_filter(request, choices) -> str | None:
    value = request.query_params.get("status")
    if value is None:
        return None
    if value not in choices:
        raise ValidationFailed.for_fields({"status": [f"One of: {', '.join(choices)}."]})
    return value


# --------------------------------------------------------------------------- hardship


class LoanHardshipPlansApi(ApiView):
    """A loan's hardship plans (GET), and a collector's request for one (POST, 201): 409 for
    a loan that is not active or already has an open plan."""

    permission_classes = [WORK]
    pagination_class = BoundedLimitOffsetPagination  # the schema documents the page
    idempotency = Idempotency.OWN  # the key is required here (idempotent_response below)

    class Input(serializers.Serializer):
        kind = serializers.ChoiceField(choices=HardshipPlan.Kind.choices)
        months = StrictIntegerField(min_value=1, max_value=MAX_MONTHS)
        reason = StrictCharField(max_length=REASON_MAX)

    @extend_schema(responses=PlanOutput(many=True))
    def get(self, request, loan_id: int):
        loan = servicing_selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        return _list(request, workouts_selectors.plans().filter(loan_id=loan.pk), PlanOutput)

    @extend_schema(
        request=Input, responses={201: PlanOutput}, parameters=[IDEMPOTENCY_KEY_REQUIRED]
    )
    def post(self, request, loan_id: int):
        loan = servicing_selectors.loan_get_for_write(user=request.user, loan_id=loan_id)

        def execute():
            data = _parse(self.Input, request.data)
            plan = hardship_plan_request(
                loan=loan,
                kind=data["kind"],
                months=data["months"],
                reason=data["reason"],
                acting_user=request.user,
                channel=HardshipPlan.Channel.API,
            )
            return status.HTTP_201_CREATED, dict(PlanOutput(plan).data)

        return idempotent_response(
            request,
            scope=f"collections.plan_request:{loan.pk}",
            payload=request.data,
            execute=execute,
        )


class HardshipPlanListApi(ApiView):
    permission_classes = [WORK]
    pagination_class = BoundedLimitOffsetPagination  # the schema documents the page

    @extend_schema(
        parameters=[_status_parameter(HardshipPlan.Status.values)],
        responses=PlanOutput(many=True),
    )
    def get(self, request):
        wanted = _status_filter(request, HardshipPlan.Status.values)
        return _list(request, workouts_selectors.plans(status=wanted), PlanOutput)


class _PlanDecideApi(ApiView):
    permission_classes = [APPROVE_PLAN]
    idempotency = Idempotency.OWN  # the key is required here (idempotent_response below)
    approve: bool

    def post(self, request, plan_id: int):
        plan = workouts_selectors.plan_get(plan_id=plan_id)

        def execute():
            data = _parse(DecisionInput, request.data)
            decided = hardship_plan_decide(
                plan=plan, approve=self.approve, reason=data["reason"], acting_user=request.user
            )
            return status.HTTP_200_OK, dict(PlanOutput(decided).data)

        return idempotent_response(
            request,
            scope=f"collections.plan_decide:{plan.pk}",
            payload={"approve": self.approve, "body": request.data},
            execute=execute,
        )


@extend_schema(request=DecisionInput, responses=PlanOutput, parameters=[IDEMPOTENCY_KEY_REQUIRED])
class HardshipPlanApproveApi(_PlanDecideApi):
    """Apply the plan through servicing's modification: the loan cures and is flagged
    in_hardship. 409 for the requester or a plan no longer requested."""

    approve = True


@extend_schema(request=DecisionInput, responses=PlanOutput, parameters=[IDEMPOTENCY_KEY_REQUIRED])
class HardshipPlanRejectApi(_PlanDecideApi):
    """Reject a requested plan (409 for the requester or a plan no longer requested)."""

    approve = False


# --------------------------------------------------------------------------- charge-off


class CaseRecommendChargeOffApi(ApiView):
    """Recommend charging the case's loan off (servicing's charge-off request in the
    collector's name); 201. 409 for a loan not active or already recommended."""

    permission_classes = [RECOMMEND]
    idempotency = Idempotency.OWN  # the key is required here (idempotent_response below)

    class Input(serializers.Serializer):
        reason = StrictCharField(max_length=255)

    @extend_schema(
        request=Input, responses={201: RecommendationOutput}, parameters=[IDEMPOTENCY_KEY_REQUIRED]
    )
    def post(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)

        def execute():
            data = _parse(self.Input, request.data)
            recommendation = charge_off_recommend(
                case=case, reason=data["reason"], acting_user=request.user
            )
            return status.HTTP_201_CREATED, dict(RecommendationOutput(recommendation).data)

        return idempotent_response(
            request,
            scope=f"collections.recommend:{case.pk}",
            payload=request.data,
            execute=execute,
        )


class RecommendationListApi(ApiView):
    permission_classes = [WORK]
    pagination_class = BoundedLimitOffsetPagination  # the schema documents the page

    @extend_schema(
        parameters=[_status_parameter(ChargeOffRecommendation.Status.values)],
        responses=RecommendationOutput(many=True),
    )
    def get(self, request):
        wanted = _status_filter(request, ChargeOffRecommendation.Status.values)
        return _list(
            request, workouts_selectors.recommendations(status=wanted), RecommendationOutput
        )


class _RecommendationDecideApi(ApiView):
    permission_classes = [APPROVE_CHARGE_OFF]
    idempotency = Idempotency.OWN  # the key is required here (idempotent_response below)
    approve: bool

    def post(self, request, recommendation_id: int):
        recommendation = workouts_selectors.recommendation_get(recommendation_id=recommendation_id)

        def execute():
            data = _parse(DecisionInput, request.data)
            decided = recommendation_decide(
                recommendation=recommendation,
                approve=self.approve,
                reason=data["reason"],
                acting_user=request.user,
            )
            return status.HTTP_200_OK, dict(RecommendationOutput(decided).data)

        return idempotent_response(
            request,
            scope=f"collections.recommendation_decide:{recommendation.pk}",
            payload={"approve": self.approve, "body": request.data},
            execute=execute,
        )


@extend_schema(
    request=DecisionInput, responses=RecommendationOutput, parameters=[IDEMPOTENCY_KEY_REQUIRED]
)
class RecommendationApproveApi(_RecommendationDecideApi):
    """Servicing posts the charge-off (the loan becomes charged_off). 409 for the collector
    who recommended it or a decided recommendation."""

    approve = True


@extend_schema(
    request=DecisionInput, responses=RecommendationOutput, parameters=[IDEMPOTENCY_KEY_REQUIRED]
)
class RecommendationRejectApi(_RecommendationDecideApi):
    """Servicing's request is rejected; the loan stays active."""

    approve = False


def _list(request, qs, output):
    paginator: LimitOffsetPagination = BoundedLimitOffsetPagination()
    page: list = paginator.paginate_queryset(qs, request) or []
    return paginator.get_paginated_response(output(page, many=True).data)
