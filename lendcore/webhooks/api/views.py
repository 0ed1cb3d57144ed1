"""Webhook subscriptions and deliveries over the API: admins only (`manage_webhooks`).

The secret is answered once, when it is made (create, rotate-secret: exempt from the
Idempotency-Key, as token issue is, so that no stored answer keeps it); reads never show it.
The other changes (PATCH, DELETE, redeliver) take the key through `ApiView`.
"""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictFloatField, StrictIntegerField, pattern_field
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.query import query_params_strict
from lendcore.api.views import ApiView, Idempotency
from lendcore.webhooks import selectors, services
from lendcore.webhooks.events import EVENT_TYPES
from lendcore.webhooks.models import WebhookDelivery

WEBHOOK_PERMISSION = has_staff_permission(Action.MANAGE_WEBHOOKS)
SECRET_HELP = "`whsec_` and base64 of 24 to 64 random bytes; omit to have one generated."


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EventTypesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)),
            min_length=1,
            max_length=len(EVENT_TYPES),
            **kwargs,
        )


@extend_schema_serializer(component_name="WebhookSubscription")
class SubscriptionOutput(serializers.Serializer):
    id = StrictIntegerField()
    url = StrictCharField()
    description = StrictCharField()
    event_types = serializers.ListField(child=StrictCharField())
    is_active = serializers.BooleanField()
    disabled_reason = StrictCharField()
    failure_run = StrictIntegerField()
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="WebhookSubscriptionWithSecret")
class SubscriptionSecretOutput(SubscriptionOutput):
    secret = StrictCharField(help_text="Shown only now: keep it to verify signatures.")


class AttemptOutput(serializers.Serializer):
    started_at = serializers.DateTimeField()
    duration_ms = StrictIntegerField()
    status_code = StrictIntegerField(allow_null=True)
    response_body = StrictCharField(help_text="The start of the answer's body.")
    error = StrictCharField()
    succeeded = serializers.BooleanField()


@extend_schema_serializer(component_name="WebhookDelivery")
class DeliveryOutput(serializers.Serializer):
    id = StrictIntegerField()
    subscription_id = StrictIntegerField()
    webhook_id = StrictCharField(source="event.webhook_id")
    event_type = StrictCharField(source="event.type")
    loan_id = StrictIntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = StrictIntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="WebhookDeliveryDetail")
class DeliveryDetailOutput(DeliveryOutput):
    payload = serializers.JSONField(source="event.payload")
    tries = AttemptOutput(many=True, source="tries.all")


def _with_secret(subscription, secret: str) -> dict:
    return {**SubscriptionOutput(subscription).data, "secret": secret}


class SubscriptionListApi(ApiView):
    # the answer holds the signing secret: it must not be kept in the idempotency record
    idempotency = Idempotency.NONE
    idempotency_exempt_reason = (
        "a stored answer would keep the webhook secret in clear; a retry makes another"
    )
    permission_classes = [WEBHOOK_PERMISSION]
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema_serializer(component_name="WebhookSubscriptionInput")
    class Input(serializers.Serializer):
        url = serializers.URLField(max_length=500, help_text="http(s); no private addresses.")
        event_types = EventTypesField()
        description = StrictCharField(max_length=200, required=False, default="")
        secret = pattern_field(
            services.SECRET_PATTERN,
            required=False,
            help_text=SECRET_HELP,
            error_messages={"invalid": services.SECRET_MESSAGE},
        )

    @extend_schema(responses=SubscriptionOutput(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.subscriptions_list(), request, view=self)
        return paginator.get_paginated_response(SubscriptionOutput(page, many=True).data)

    @extend_schema(request=Input, responses={201: SubscriptionSecretOutput})
    def post(self, request):
        data = _parse(self.Input, request.data)
        subscription, secret = services.subscription_create(
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            secret=data.get("secret"),
            acting_user=request.user,
        )
        return Response(_with_secret(subscription, secret), status=status.HTTP_201_CREATED)


class SubscriptionDetailApi(ApiView):
    permission_classes = [WEBHOOK_PERMISSION]

    @extend_schema_serializer(component_name="WebhookSubscriptionPatch")
    class Input(serializers.Serializer):
        url = serializers.URLField(max_length=500, required=False)
        event_types = EventTypesField(required=False)
        description = StrictCharField(max_length=200, required=False)
        is_active = serializers.BooleanField(
            required=False, help_text="Enabling again clears the failure run."
        )

    @extend_schema(responses=SubscriptionOutput)
    def get(self, request, subscription_id: int):
        subscription = selectors.subscription_get(subscription_id=subscription_id)
        return Response(SubscriptionOutput(subscription).data)

    @extend_schema(request=Input, responses=SubscriptionOutput)
    def patch(self, request, subscription_id: int):
        subscription = selectors.subscription_get(subscription_id=subscription_id)
        data = _parse(self.Input, request.data)
        subscription = services.subscription_update(
            subscription=subscription, acting_user=request.user, **data
        )
        return Response(SubscriptionOutput(subscription).data)

    @extend_schema(responses={204: None})
    def delete(self, request, subscription_id: int):
        subscription = selectors.subscription_get(subscription_id=subscription_id)
        services.subscription_delete(subscription=subscription, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionRotateSecretApi(ApiView):
    # the answer holds the signing secret: it must not be kept in the idempotency record
    idempotency = Idempotency.NONE
    idempotency_exempt_reason = (
        "a stored answer would keep the webhook secret in clear; a retry makes another"
    )
    permission_classes = [WEBHOOK_PERMISSION]

    @extend_schema_serializer(component_name="WebhookSecretRotateInput")
    class Input(serializers.Serializer):
        secret = pattern_field(
            services.SECRET_PATTERN,
            required=False,
            help_text=SECRET_HELP,
            error_messages={"invalid": services.SECRET_MESSAGE},
        )
        overlap_hours = StrictFloatField(
            min_value=0,
            max_value=24 * 30,
            required=False,
            help_text="How long the old secret keeps signing too (default: the setting).",
        )

    @extend_schema(request=Input, responses=SubscriptionSecretOutput)
    def post(self, request, subscription_id: int):
        subscription = selectors.subscription_get(subscription_id=subscription_id)
        data = _parse(self.Input, request.data)
        hours = data.get("overlap_hours")
        secret = services.subscription_secret_rotate(
            subscription=subscription,
            acting_user=request.user,
            secret=data.get("secret"),
            overlap=None if hours is None else timedelta(hours=hours),
        )
        return Response(_with_secret(subscription, secret))


class DeliveryListApi(ApiView):
    permission_classes = [WEBHOOK_PERMISSION]
    pagination_class = BoundedLimitOffsetPagination

    class Filters(serializers.Serializer):
        subscription = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)
        status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "subscription",
                {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                description="Only this subscription's.",
            ),
            OpenApiParameter("status", str, enum=WebhookDelivery.Status.values),
        ],
        responses=DeliveryOutput(many=True),
    )
    def get(self, request):
        filters = _parse(self.Filters, query_params_strict(request))
        deliveries = selectors.deliveries_list(
            subscription_id=filters.get("subscription"), status=filters.get("status")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliveryOutput(page, many=True).data)


class DeliveryDetailApi(ApiView):
    permission_classes = [WEBHOOK_PERMISSION]

    @extend_schema(responses=DeliveryDetailOutput)
    def get(self, request, delivery_id: int):
        return Response(DeliveryDetailOutput(selectors.delivery_get(delivery_id=delivery_id)).data)


class DeliveryRedeliverApi(ApiView):
    permission_classes = [WEBHOOK_PERMISSION]

    @extend_schema(request=None, responses={202: DeliveryOutput})
    def post(self, request, delivery_id: int):
        delivery = selectors.delivery_get(delivery_id=delivery_id)
        redelivered = services.delivery_redeliver(delivery=delivery, acting_user=request.user)
        redelivered.event = delivery.event
        return Response(DeliveryOutput(redelivered).data, status=status.HTTP_202_ACCEPTED)
