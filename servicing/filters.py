"""The loan list's filters (django-filter), one meaning for the API and the staff UI.

`LoanFilter` takes these query parameters, all optional:

- `status`: a loan status; `product`: a product code; `borrower`: a borrower id;
- `delinquent`, `in_hardship`: true or false;
- `dpd_min`, `dpd_max`: days past due at least / at most (0 to 36,500), counted from the oldest
  unpaid installment to the business date; only active loans are past due;
- `q`: a search. Every word (up to the first five) must match, case-insensitively and
  anywhere in it, the loan number, the borrower's first name, last name or e-mail:
  "carol smith" finds Carol Smith, "LN-0001" her loan, "example.com" every borrower there.

It is built by `servicing.selectors.loan_list(user=..., filters=...)`, which the API's loan
list (`GET /api/v1/loans/`) and the staff loan search (`/staff/loans/`) both call.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from lendcore.core.converters import MAX_ID
from lendcore.core.filters import StrictFilterSet
from servicing.models import Loan

# The widest days-past-due filter (a century): a larger one overflowed the date arithmetic.
DPD_MAX = 36500
# A search reads at most this many words (each adds four LIKE conditions).
SEARCH_WORDS = 5


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (NumberFilter takes decimals: "1.5" would be read as 1)."""

    field_class = forms.IntegerField


def loans_search(queryset: QuerySet[Loan], text: str) -> QuerySet[Loan]:
    """Every word of `text` (the first five) matches the loan number, or the borrower's first
    name, last name or e-mail."""
    for word in text.split()[:SEARCH_WORDS]:
        queryset = queryset.filter(
            Q(loan_number__icontains=word)
            | Q(borrower__first_name__icontains=word)
            | Q(borrower__last_name__icontains=word)
            | Q(borrower__email__icontains=word)
        )
    return queryset


def loans_filter_dpd(
    queryset: QuerySet[Loan], *, dpd_min: int | None, dpd_max: int | None, on: date
) -> QuerySet[Loan]:
    """dpd >= n  <=>  oldest unpaid due date <= business date - n (an indexable range)."""
    if dpd_min is not None and dpd_min > 0:
        queryset = queryset.filter(
            status=Loan.Status.ACTIVE, oldest_unpaid_due_date__lte=on - timedelta(days=dpd_min)
        )
    if dpd_max is not None:
        queryset = queryset.filter(
            Q(oldest_unpaid_due_date__isnull=True)
            | Q(oldest_unpaid_due_date__gte=on - timedelta(days=dpd_max))
            | ~Q(status=Loan.Status.ACTIVE)
        )
    return queryset


_BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


def _true(value: str) -> bool:
    return value == "true"


class LoanFilter(StrictFilterSet):
    """The loan list's filters (see the module's docstring); `on` is the business date the
    days past due are counted to."""

    status = django_filters.ChoiceFilter(choices=Loan.Status.choices)
    product = django_filters.CharFilter(field_name="product_code")
    # "true" or "false" only: a BooleanFilter would read any other word as "no filter"
    delinquent = django_filters.TypedChoiceFilter(
        choices=_BOOLEAN_CHOICES, coerce=_true, empty_value=None
    )
    in_hardship = django_filters.TypedChoiceFilter(
        choices=_BOOLEAN_CHOICES, coerce=_true, empty_value=None
    )
    borrower = IntegerFilter(field_name="borrower_id", min_value=1, max_value=MAX_ID)
    dpd_min = IntegerFilter(method="filter_noop", min_value=0, max_value=DPD_MAX)
    dpd_max = IntegerFilter(method="filter_noop", min_value=0, max_value=DPD_MAX)
    q = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Loan
        fields = ["status", "product", "delinquent", "in_hardship", "borrower"]

    def __init__(self, data: Any = None, queryset: Any = None, *, on: date, **kwargs: Any):
        super().__init__(data, queryset, **kwargs)
        self.on = on

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together in `filter_queryset`

    def filter_search(self, queryset, name, value):
        return loans_search(queryset, value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        lo, hi = data.get("dpd_min"), data.get("dpd_max")
        if lo is not None or hi is not None:
            queryset = loans_filter_dpd(
                queryset,
                dpd_min=int(lo) if lo is not None else None,
                dpd_max=int(hi) if hi is not None else None,
                on=self.on,
            )
        return queryset
