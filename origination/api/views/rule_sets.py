"""Rule sets: list, create, read, backtest, activate."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField, StrictModelSerializer, id_field
from lendcore.api.query import query_params_strict
from lendcore.api.views import ApiView, Idempotency
from origination import selectors, services
from origination.api.views._common import has_perm_code, parse, require
from origination.errors import PermissionDenied, ValidationFailed
from origination.models import LoanProduct, Rule, RuleSet


class RuleSerializer(StrictModelSerializer):
    threshold = StrictCharField(max_length=50, required=False, allow_blank=True, default="")

    class Meta:
        model = Rule
        fields = [
            "order",
            "feature",
            "operator",
            "threshold",
            "outcome",
            "reason_code",
            "reason_text",
        ]
        extra_kwargs = {"order": {"required": False}}


class RuleSetOutput(serializers.ModelSerializer):
    rules = RuleSerializer(many=True)
    product_code = StrictCharField(source="product.code")

    class Meta:
        model = RuleSet
        fields = [
            "id",
            "product",
            "product_code",
            "version",
            "name",
            "status",
            "created_at",
            "activated_at",
            "rules",
        ]


def _rule_sets_read(user: Any) -> None:
    # as the staff rule-set pages: staff who manage products
    if not has_perm_code(user, Action.MANAGE_PRODUCTS):
        raise PermissionDenied("Rule sets are for staff who manage products.")


class RuleSetListCreateApi(ApiView):
    class FilterSerializer(serializers.Serializer):
        product = id_field(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        product = id_field()
        name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
        rules = RuleSerializer(many=True, allow_empty=False)

    @extend_schema(parameters=[FilterSerializer], responses=RuleSetOutput(many=True))
    def get(self, request: Request) -> Response:
        _rule_sets_read(request.user)
        filters = parse(self.FilterSerializer, query_params_strict(request))
        rule_sets = selectors.rule_set_list(product_id=filters["product"])
        return Response(RuleSetOutput(rule_sets, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: RuleSetOutput})
    def post(self, request: Request) -> Response:
        require(request.user, "manage_products")
        data = parse(self.InputSerializer, request.data)
        product = LoanProduct.objects.filter(pk=data["product"]).first()
        if product is None:
            raise ValidationFailed.for_fields({"product": ["No such product."]})
        rule_set = services.rule_set_create(
            product=product,
            acting_user=request.user,
            name=data["name"],
            rules=[dict(r) for r in data["rules"]],
        )
        rule_set = selectors.rule_set_get(rule_set_id=rule_set.pk)
        return Response(RuleSetOutput(rule_set).data, status=status.HTTP_201_CREATED)


class RuleSetDetailApi(ApiView):
    @extend_schema(responses=RuleSetOutput)
    def get(self, request: Request, rule_set_id: int) -> Response:
        _rule_sets_read(request.user)
        return Response(RuleSetOutput(selectors.rule_set_get(rule_set_id=rule_set_id)).data)


class RuleSetBacktestApi(ApiView):
    idempotency = Idempotency.NONE
    idempotency_exempt_reason = (
        "changes nothing: it replays a rule set over past applications and reports"
    )

    class InputSerializer(serializers.Serializer):
        limit = StrictIntegerField(min_value=1, max_value=10_000, default=500)

    class OutputSerializer(serializers.Serializer):
        rule_set_id = StrictIntegerField()
        compared = StrictIntegerField()
        approval_rate_before = serializers.DecimalField(max_digits=6, decimal_places=4)
        approval_rate_after = serializers.DecimalField(max_digits=6, decimal_places=4)
        outcomes_before = serializers.DictField(child=StrictIntegerField())
        outcomes_after = serializers.DictField(child=StrictIntegerField())
        flips = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request, rule_set_id: int) -> Response:
        _rule_sets_read(request.user)
        rule_set = selectors.rule_set_get(rule_set_id=rule_set_id)
        data = parse(self.InputSerializer, request.data)
        result = selectors.rule_set_backtest(rule_set=rule_set, limit=data["limit"])
        return Response(self.OutputSerializer(asdict(result)).data)


class RuleSetActivateApi(ApiView):
    @extend_schema(request=None, responses=RuleSetOutput)
    def post(self, request: Request, rule_set_id: int) -> Response:
        require(request.user, "manage_products")
        rule_set = selectors.rule_set_get(rule_set_id=rule_set_id)
        services.rule_set_activate(rule_set=rule_set, acting_user=request.user)
        return Response(RuleSetOutput(selectors.rule_set_get(rule_set_id=rule_set_id)).data)
