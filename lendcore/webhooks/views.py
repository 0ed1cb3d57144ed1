"""The staff page: each delivery, its attempts and answers; redeliver from there."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.views.generic import TemplateView

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.errors import ApplicationError

from . import selectors, services
from .models import WebhookDelivery

PAGE_SIZE = 50


class DeliveryListView(StaffRequiredMixin, TemplateView):
    required_permissions = (Action.MANAGE_WEBHOOKS,)
    template_name = "staff/webhooks/deliveries.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "")
        if status not in WebhookDelivery.Status.values:
            status = ""
        deliveries = selectors.deliveries_list(status=status or None)
        page = Paginator(deliveries, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page=page,
            status=status,
            statuses=WebhookDelivery.Status.choices,
            subscriptions=selectors.subscriptions_list(),
            **kwargs,
        )


class DeliveryDetailView(StaffRequiredMixin, TemplateView):
    required_permissions = (Action.MANAGE_WEBHOOKS,)
    template_name = "staff/webhooks/delivery.html"

    def get_context_data(self, **kwargs):
        delivery = selectors.delivery_get(delivery_id=self.kwargs["delivery_id"])
        return super().get_context_data(delivery=delivery, **kwargs)

    def post(self, request, delivery_id: int):
        delivery = selectors.delivery_get(delivery_id=delivery_id)
        try:
            services.delivery_redeliver(delivery=delivery, acting_user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Queued for delivery again.")
        return redirect("webhooks:staff-delivery", delivery_id=delivery.pk)
