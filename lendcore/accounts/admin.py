from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

from .models import ApiToken, Borrower
from .services import api_token_revoke


@admin.register(Borrower)
class BorrowerAdmin(admin.ModelAdmin):
    list_display = ("id", "full_name", "email", "phone", "created_at")
    search_fields = ("first_name", "last_name", "email", "user__username")
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins see every token (never a key: none is stored) and revoke through the service."""

    list_display = (
        "prefix",
        "user",
        "name",
        "scope",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "user__username")
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False  # a token is issued to its user, who alone sees the key

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token, acting_user=request.user, request=request)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")


# DRF's own token table is not used (tokens are `ApiToken`s): keep it out of the admin.
admin.site.unregister(TokenProxy)
