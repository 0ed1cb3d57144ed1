from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("staff/webhooks/", views.DeliveryListView.as_view(), name="staff-deliveries"),
    path(
        "staff/webhooks/deliveries/<id:delivery_id>/",
        views.DeliveryDetailView.as_view(),
        name="staff-delivery",
    ),
]
