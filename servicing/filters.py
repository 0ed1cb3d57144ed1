"""Filters of servicing lists (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from servicing import selectors
from servicing.models import Loan

# The widest days-past-due filter (a century): a larger one overflowed the date arithmetic.
DPD_MAX = 36500
# The largest key of a 64-bit integer column: a larger id overflows the database driver.
MAX_ID = 2**63 - 1


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (NumberFilter takes decimals: "1.5" would be read as 1)."""

    field_class = forms.IntegerField


class LoanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Loan.Status.choices)
    product = django_filters.CharFilter(field_name="product_code")
    delinquent = django_filters.BooleanFilter()
    in_hardship = django_filters.BooleanFilter()
    borrower = IntegerFilter(field_name="borrower_id", min_value=1, max_value=MAX_ID)
    dpd_min = IntegerFilter(method="filter_noop", min_value=0, max_value=DPD_MAX)
    dpd_max = IntegerFilter(method="filter_noop", min_value=0, max_value=DPD_MAX)
    q = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Loan
        fields = ["status", "product", "delinquent", "in_hardship", "borrower"]

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together in `filter_queryset`

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(loan_number__icontains=value)
            | Q(borrower__first_name__icontains=value)
            | Q(borrower__last_name__icontains=value)
            | Q(borrower__email__icontains=value)
        )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        lo, hi = data.get("dpd_min"), data.get("dpd_max")
        if lo is not None or hi is not None:
            queryset = selectors.loans_filter_dpd(
                queryset,
                dpd_min=int(lo) if lo is not None else None,
                dpd_max=int(hi) if hi is not None else None,
            )
        return queryset
