"""The case list's filters, one meaning for the API (`GET /api/v1/collections/cases/`) and
the staff queue page: `status` (open, cured, closed), `bucket` (a delinquency bucket code),
`assignee` (a user id, or `me`). A filter given empty or twice is refused (400)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from .models import CollectionCase

MAX_ID = 2**63 - 1


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


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CollectionCase.Status.choices)
    bucket = django_filters.CharFilter(max_length=16)
    assignee = AssigneeFilter(method="filter_assignee")

    class Meta:
        model = CollectionCase
        fields = ["status", "bucket"]

    def __init__(self, data: Any = None, queryset: Any = None, *, user: Any, **kwargs: Any):
        super().__init__(data, queryset, **kwargs)
        self.user = user

    def is_valid(self) -> bool:
        valid = super().is_valid()
        data = self.data
        for name in self.filters:
            if name not in data:
                continue
            values = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
            if len(values) > 1:
                self.form.add_error(name, "Give this filter once.")
                valid = False
            elif values[0] in ("", None):
                self.form.add_error(name, "Give a value, or leave this filter out.")
                valid = False
        return valid

    def filter_assignee(self, queryset, name, value):
        return queryset.filter(assignee_id=self.user.pk if value == "me" else value)
