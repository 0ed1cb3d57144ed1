"""Collections in the admin: the dunning templates and rules are edited here (configuration);
notices are read-only inspection."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template import Template, TemplateSyntaxError

from .models import DunningNotice, DunningRule, DunningTemplate


class DunningTemplateForm(forms.ModelForm):
    class Meta:
        model = DunningTemplate
        fields = ("code", "name", "subject", "body")

    def _template(self, name: str) -> str:
        text = self.cleaned_data.get(name, "")
        try:
            Template(text)
        except TemplateSyntaxError as error:
            raise forms.ValidationError(f"Template syntax: {error}") from None
        return text

    def clean_subject(self) -> str:
        return self._template("subject")

    def clean_body(self) -> str:
        return self._template("body")


@admin.register(DunningTemplate)
class DunningTemplateAdmin(admin.ModelAdmin):
    form = DunningTemplateForm
    list_display = ("code", "name", "subject")
    search_fields = ("code", "name")


@admin.register(DunningRule)
class DunningRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "channel",
        "dpd_from",
        "dpd_to",
        "cadence_days",
        "product_code",
        "bucket",
        "required_notice",
        "active",
    )
    list_filter = ("channel", "active")


@admin.register(DunningNotice)
class DunningNoticeAdmin(admin.ModelAdmin):
    list_display = ("business_date", "loan", "rule", "channel", "status", "reason", "sent_at")
    list_filter = ("status", "channel", "business_date")
    list_select_related = ("loan", "rule")
    readonly_fields = [f.name for f in DunningNotice._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
