"""Reads: subscriptions, deliveries (with their event, subscription and attempts)."""

from __future__ import annotations

from django.db.models import QuerySet

from lendcore.errors import NotFound

from .models import WebhookDelivery, WebhookSubscription


def subscriptions_list() -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.order_by("id")


def subscription_get(*, subscription_id: int) -> WebhookSubscription:
    found = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if found is None:
        raise NotFound("No such webhook subscription.", code="not_found")
    return found


def deliveries_list(
    *, subscription_id: int | None = None, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.select_related("event", "subscription").order_by("-id")
    if subscription_id is not None:
        deliveries = deliveries.filter(subscription_id=subscription_id)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_get(*, delivery_id: int) -> WebhookDelivery:
    found = (
        WebhookDelivery.objects.select_related("event", "subscription")
        .prefetch_related("tries")
        .filter(pk=delivery_id)
        .first()
    )
    if found is None:
        raise NotFound("No such webhook delivery.", code="not_found")
    return found
