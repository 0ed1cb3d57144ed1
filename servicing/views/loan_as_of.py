"""The staff loan page's as-of block: the date picker and, for a good `?as_of=`, the loan as
of that date (servicing.loan_as_of). A bad date is the form's error (the page answers 400)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lendcore.errors import ApplicationError
from servicing.forms import LoanAsOfForm
from servicing.loan_as_of import loan_as_of
from servicing.models import Loan


def as_of_context(request: HttpRequest, loan: Loan) -> tuple[dict[str, Any], int]:
    """({"as_of_form", "as_of"}, the page's status): `as_of` is None without a good date."""
    if "as_of" not in request.GET:
        return {"as_of_form": LoanAsOfForm(), "as_of": None}, 200
    form = LoanAsOfForm(request.GET)
    if not form.is_valid():
        return {"as_of_form": form, "as_of": None}, 400
    try:
        state = loan_as_of(loan, form.cleaned_data["as_of"])
    except ApplicationError as error:
        form.add_service_error(error)
        return {"as_of_form": form, "as_of": None}, 400
    return {"as_of_form": form, "as_of": state}, 200
