"""Django admin: products, product versions and rule sets are edited here; everything else is
for inspection. Saves and actions call the services (a version in use becomes a new version)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lendcore.core.forms import money_form_field
from lendcore.errors import ApplicationError

from . import selectors, services
from .models import (
    Applicant,
    Application,
    ApplicationEvent,
    AuditEntry,
    BorrowerInvitation,
    BureauReport,
    Decision,
    Document,
    IdentityCheck,
    LoanProduct,
    Offer,
    ProductVersion,
    Rule,
    RuleSet,
)

_VERSION_COLUMNS = (
    "version",
    "min_amount",
    "max_amount",
    "min_term",
    "max_term",
    "base_rate",
    "created_at",
)


class ProductVersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = _VERSION_COLUMNS
    readonly_fields = _VERSION_COLUMNS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoanProduct)
class LoanProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    inlines = [ProductVersionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: LoanProduct, form: forms.ModelForm, change: bool
    ) -> None:
        services.product_save(product=obj, acting_user=request.user)


_CENT = Decimal("0.01")


class ProductVersionAdminForm(forms.ModelForm):
    """The money a product's terms hold, bounded by MONEY_MAX like every money input."""

    min_amount = money_form_field(label="Min amount", min_value=_CENT)
    max_amount = money_form_field(label="Max amount", min_value=_CENT)
    late_fee_value = money_form_field(label="Late fee value")
    late_fee_cap = money_form_field(label="Late fee cap", required=False)
    nsf_fee = money_form_field(label="NSF fee")
    four_eyes_limit = money_form_field(label="Four-eyes limit", required=False)

    class Meta:
        model = ProductVersion
        fields = ["product", *services.PRODUCT_TERM_FIELDS]


@admin.register(ProductVersion)
class ProductVersionAdmin(admin.ModelAdmin):
    """Saving a version that applications use creates the next version instead."""

    form = ProductVersionAdminForm
    list_display = [
        "product",
        "version",
        "min_amount",
        "max_amount",
        "min_term",
        "max_term",
        "created_at",
    ]
    list_filter = ["product"]
    readonly_fields = ["version", "created_at", "created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "product"] if obj is not None else self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: ProductVersion, form: forms.ModelForm, change: bool
    ) -> None:
        terms = {f: getattr(obj, f) for f in services.PRODUCT_TERM_FIELDS}
        try:
            if change:
                original = ProductVersion.objects.get(pk=obj.pk)
                changed = {k: v for k, v in terms.items() if getattr(original, k) != v}
                saved = services.product_update(
                    product=original.product, acting_user=request.user, **changed
                )
            else:
                saved = services.product_update(
                    product=obj.product, acting_user=request.user, **terms
                )
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        obj.pk = saved.pk
        obj.version = saved.version
        if change and saved.pk != form.instance.pk:
            self.message_user(
                request,
                f"Version {original.version} is in use; saved as version {saved.version}.",
                level=messages.WARNING,
            )


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 1
    fields = ["order", "feature", "operator", "threshold", "outcome", "reason_code", "reason_text"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == RuleSet.Status.DRAFT

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    """Rule sets are edited while draft; activating goes through the service (one active)."""

    list_display = ["product", "version", "name", "status", "activated_at"]
    list_filter = ["product", "status"]
    readonly_fields = [
        "version",
        "status",
        "created_by",
        "created_at",
        "activated_at",
        "activated_by",
    ]
    inlines = [RuleInline]
    actions = ["activate", "backtest", "copy_as_draft"]

    def save_model(
        self, request: HttpRequest, obj: RuleSet, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)  # a draft's name; rules are inline
        else:
            services.rule_set_draft_add(rule_set=obj, acting_user=request.user)

    @admin.action(description="Activate (retires the product's active rule set)")
    def activate(self, request: HttpRequest, queryset: QuerySet[RuleSet]) -> None:
        for rule_set in queryset:
            try:
                services.rule_set_activate(rule_set=rule_set, acting_user=request.user)
                self.message_user(request, f"{rule_set} activated.")
            except ApplicationError as exc:
                self.message_user(request, f"{rule_set}: {exc.message}", level=messages.ERROR)

    @admin.action(description="Backtest over the last 500 decided applications")
    def backtest(self, request: HttpRequest, queryset: QuerySet[RuleSet]) -> None:
        for rule_set in queryset:
            result = selectors.rule_set_backtest(rule_set=rule_set, limit=500)
            self.message_user(
                request,
                f"{rule_set}: {result.compared} compared, approval rate "
                f"{result.approval_rate_before} -> {result.approval_rate_after}, "
                f"{len(result.flips)} flips "
                f"({', '.join(str(f['application']) for f in result.flips[:20])}).",
            )

    @admin.action(description="Copy as a new draft")
    def copy_as_draft(self, request: HttpRequest, queryset: QuerySet[RuleSet]) -> None:
        for rule_set in queryset:
            copy = services.rule_set_create(
                product=rule_set.product,
                acting_user=request.user,
                name=rule_set.name,
                rules=[
                    {
                        "feature": r.feature,
                        "operator": r.operator,
                        "threshold": r.threshold,
                        "outcome": r.outcome,
                        "reason_code": r.reason_code,
                        "reason_text": r.reason_text,
                    }
                    for r in rule_set.rules.all()
                ],
            )
            self.message_user(request, f"Draft {copy} created.")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Applicant)
class ApplicantAdmin(ReadOnlyAdmin):
    list_display = ["id", "first_name", "last_name", "ssn_last4", "email", "created_at"]
    search_fields = ["last_name", "email", "ssn_last4"]
    exclude = ["ssn_encrypted", "date_of_birth_encrypted"]
    readonly_fields = ["date_of_birth_masked"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "applicant",
        "product",
        "amount",
        "term",
        "status",
        "channel",
        "created_at",
    ]
    list_filter = ["status", "channel", "product"]
    list_select_related = ["applicant", "product"]
    search_fields = ["external_id", "applicant__last_name"]
    exclude = ["disbursement_account_encrypted"]
    actions = ["expire_offers"]

    @admin.action(description="Expire offers past their validity (all applications)")
    def expire_offers(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        count = services.offers_expire(acting_user=request.user)
        self.message_user(request, f"{count} offers expired.")


@admin.register(BorrowerInvitation)
class BorrowerInvitationAdmin(ReadOnlyAdmin):
    list_display = ["id", "applicant", "borrower", "status", "expires_at", "created_by"]
    list_filter = ["status"]
    list_select_related = ["applicant", "borrower", "created_by"]
    exclude = ["token_hash"]


for model in (ApplicationEvent, AuditEntry, BureauReport, Decision, Document, IdentityCheck, Offer):
    admin.site.register(model, ReadOnlyAdmin)
