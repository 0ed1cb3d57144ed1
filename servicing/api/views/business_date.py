"""The business date: read it; admins set it."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from lendcore.accounts.roles import Action
from lendcore.api.views import ApiView
from servicing import selectors, services

from .common import (
    parse_input,
    require_staff,
)


class BusinessDateApi(ApiView):
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
        require_staff(request.user, Action.SET_BUSINESS_DATE)
        data = parse_input(self.Input, request.data)
        row = services.business_date_set(
            business_date=data["business_date"], acting_user=request.user
        )
        return Response({"business_date": row.business_date.isoformat()})
