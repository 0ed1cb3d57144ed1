"""Thin admin: subscriptions (secrets never shown; create and rotate through the API or
here, which calls the services) and the deliveries with their attempts, read-only."""

from __future__ import annotations

from django.contrib import admin, messages

from . import services
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "url", "is_active", "failure_run", "disabled_reason", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    readonly_fields = (
        "url",
        "event_types",
        "description",
        "is_active",
        "failure_run",
        "disabled_reason",
        "previous_secret_expires_at",
        "owner",
        "created_at",
        "updated_at",
    )
    exclude = ("secret_encrypted", "previous_secret_encrypted")
    actions = ("rotate_secret", "enable", "disable")

    def has_add_permission(self, request) -> bool:
        return False  # created through the API (the secret is answered once, there)

    @admin.action(description="Rotate the secret (the old one signs during the overlap)")
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            secret = services.subscription_secret_rotate(
                subscription=subscription, acting_user=request.user
            )
            self.message_user(request, f"{subscription.url}: new secret {secret}", messages.WARNING)

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        for subscription in queryset:
            services.subscription_update(
                subscription=subscription, is_active=True, acting_user=request.user
            )

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        for subscription in queryset:
            services.subscription_update(
                subscription=subscription, is_active=False, acting_user=request.user
            )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("started_at", "duration_ms", "status_code", "error", "response_body")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "event",
        "subscription",
        "loan_id",
        "status",
        "attempts",
        "next_attempt_at",
    )
    list_filter = ("status",)
    list_select_related = ("event", "subscription")
    readonly_fields = (
        "event",
        "subscription",
        "loan_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "delivered_at",
        "created_at",
    )
    inlines = (WebhookAttemptInline,)
    actions = ("redeliver",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Redeliver")
    def redeliver(self, request, queryset):
        for delivery in queryset:
            services.delivery_redeliver(delivery=delivery, acting_user=request.user)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "loan_id", "created_at", "dispatched_at")
    list_filter = ("type",)
    readonly_fields = ("uid", "type", "loan_id", "payload", "created_at", "dispatched_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
