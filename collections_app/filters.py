"""The case list's filters, one meaning for the API (`GET /api/v1/collections/cases/`) and
the staff queue page: `status` (open, cured, closed), `bucket` (a delinquency bucket code),
`product` (the loan's product code), `assignee` (a user id, or `me`), `external_id` (an
integrator's own id for the case, exact). A filter given empty or twice is refused (400)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from lendcore.core.converters import MAX_ID
from lendcore.core.external_ids import MAX_LENGTH as EXTERNAL_ID_MAX
from lendcore.core.filters import StrictFilterSet

from .models import CollectionCase


class AssigneeField(forms.CharField):
    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value in (None, "", "me"):
            return value
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
            raise forms.ValidationError("Give a user id or me.")
        return int(value)


class AssigneeFilter(django_filters.Filter):
    field_class = AssigneeField


class CaseFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=CollectionCase.Status.choices)
    bucket = django_filters.CharFilter(max_length=16)
    product = django_filters.CharFilter(field_name="product_code", max_length=64)
    assignee = AssigneeFilter(method="filter_assignee")
    external_id = django_filters.CharFilter(max_length=EXTERNAL_ID_MAX)

    class Meta:
        model = CollectionCase
        fields = ["status", "bucket", "external_id"]

    def __init__(self, data: Any = None, queryset: Any = None, *, user: Any, **kwargs: Any):
        super().__init__(data, queryset, **kwargs)
        self.user = user

    def filter_assignee(self, queryset, name, value):
        return queryset.filter(assignee_id=self.user.pk if value == "me" else value)
