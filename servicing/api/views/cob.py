"""Close of business over the API: start a run (202; 409 while one runs or when the date is
closed or not the business date), list runs, read one run with its partitions and failures.
Admins only (`run_close_of_business`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.views import ApiView
from lendcore.errors import NotFound, UpstreamUnavailable
from servicing.cob import selectors as cob_selectors
from servicing.cob.runner import CobDispatchError, cob_run_start

RUN_PERMISSION = has_staff_permission(Action.RUN_COB)


class CobRunOutput(serializers.Serializer):
    id = StrictIntegerField()
    business_date = serializers.DateField()
    status = StrictCharField()
    trigger = StrictCharField()
    mode = StrictCharField()
    partitions_total = StrictIntegerField()
    partitions_done = StrictIntegerField()
    loans_total = StrictIntegerField()
    loans_done = StrictIntegerField()
    loans_per_second = serializers.FloatField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True)
    attempts = StrictIntegerField()
    steps = serializers.JSONField()
    error = StrictCharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class CobFailureOutput(serializers.Serializer):
    loan_id = StrictIntegerField()
    loan_number = StrictCharField(source="loan.loan_number")
    error = StrictCharField()
    resolved = serializers.BooleanField()


class CobPartitionOutput(serializers.Serializer):
    number = StrictIntegerField()
    lo_id = StrictIntegerField()
    hi_id = StrictIntegerField()
    status = StrictCharField()
    loans = StrictIntegerField()
    attempts = StrictIntegerField()
    error = StrictCharField()


class CobRunDetailOutput(CobRunOutput):
    failures = CobFailureOutput(many=True, source="failures.all")
    partitions = CobPartitionOutput(many=True, source="partitions.all")


class CobRunListCreateApi(ApiView):
    permission_classes = [RUN_PERMISSION]
    pagination_class = BoundedLimitOffsetPagination

    class Input(serializers.Serializer):
        business_date = serializers.DateField(required=False)

    @extend_schema(responses=CobRunOutput(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(cob_selectors.cob_runs(), request, view=self)
        return paginator.get_paginated_response(CobRunOutput(page, many=True).data)

    @extend_schema(request=Input, responses={202: CobRunOutput})
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = cob_run_start(
                business_date=serializer.validated_data.get("business_date"),
                acting_user=request.user,
                trigger="api",
            )
        except CobDispatchError as error:
            raise UpstreamUnavailable(
                f"Close of business could not be dispatched (broker down?): {error}",
                code="cob_dispatch_failed",
            ) from None
        return Response(CobRunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class CobRunDetailApi(ApiView):
    permission_classes = [RUN_PERMISSION]

    @extend_schema(responses=CobRunDetailOutput)
    def get(self, request, run_id: int):
        run = cob_selectors.cob_run_get(run_id=run_id)
        if run is None:
            raise NotFound("No such close-of-business run.", code="cob_run_not_found")
        return Response(CobRunDetailOutput(run).data)
