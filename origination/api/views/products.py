"""Loan products: list, create, read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.api.fields import (
    StrictCharField,
    StrictIntegerField,
    StrictModelSerializer,
    money_field,
)
from lendcore.api.views import ApiView
from origination import selectors, services
from origination.api.views._common import CENT, has_perm_code, parse, require
from origination.errors import NotFound
from origination.models import LoanProduct, ProductVersion


class ProductOutput(serializers.Serializer):
    id = StrictIntegerField()
    code = StrictCharField()
    name = StrictCharField()
    active = serializers.BooleanField()

    def to_representation(self, product: LoanProduct) -> dict[str, Any]:
        data = super().to_representation(product)
        version = selectors.product_current_version(product)
        data.update(ProductVersionOutput(version).data)
        return data


class ProductVersionOutput(serializers.ModelSerializer):
    class Meta:
        model = ProductVersion
        fields = ["version", *services.PRODUCT_TERM_FIELDS]


class ProductListCreateApi(ApiView):
    class InputSerializer(StrictModelSerializer):
        code = StrictCharField(max_length=32)
        name = StrictCharField(max_length=200)
        active = serializers.BooleanField(default=True)
        min_amount = money_field(min_value=CENT)
        max_amount = money_field(min_value=CENT)
        late_fee_value = money_field(required=False)
        late_fee_cap = money_field(required=False, allow_null=True)
        nsf_fee = money_field(required=False)
        four_eyes_limit = money_field(required=False, allow_null=True)

        class Meta:
            model = ProductVersion
            fields = ["code", "name", "active", *ProductVersionOutput.Meta.fields[1:]]
            extra_kwargs = {"frequencies": {"required": True}}

    @extend_schema(responses=ProductOutput(many=True))
    def get(self, request: Request) -> Response:
        active_only = not has_perm_code(request.user, "manage_products")
        products = selectors.product_list(active_only=active_only)
        return Response(ProductOutput(products, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProductOutput})
    def post(self, request: Request) -> Response:
        require(request.user, "manage_products")
        data = parse(self.InputSerializer, request.data)
        product = services.product_create(acting_user=request.user, **data)
        product = selectors.product_get(product_id=product.pk)
        return Response(ProductOutput(product).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(ApiView):
    @extend_schema(responses=ProductOutput)
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.product_get(product_id=product_id)
        if not product.active and not has_perm_code(request.user, "manage_products"):
            raise NotFound("Product not found.")
        return Response(ProductOutput(product).data)
