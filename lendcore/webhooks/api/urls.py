"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

from django.urls import path

from . import views

urlpatterns: list = [
    path(
        "webhook-subscriptions/", views.SubscriptionListApi.as_view(), name="webhook-subscriptions"
    ),
    path(
        "webhook-subscriptions/<id:subscription_id>/",
        views.SubscriptionDetailApi.as_view(),
        name="webhook-subscription-detail",
    ),
    path(
        "webhook-subscriptions/<id:subscription_id>/rotate-secret/",
        views.SubscriptionRotateSecretApi.as_view(),
        name="webhook-subscription-rotate-secret",
    ),
    path("webhook-deliveries/", views.DeliveryListApi.as_view(), name="webhook-deliveries"),
    path(
        "webhook-deliveries/<id:delivery_id>/",
        views.DeliveryDetailApi.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhook-deliveries/<id:delivery_id>/redeliver/",
        views.DeliveryRedeliverApi.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
