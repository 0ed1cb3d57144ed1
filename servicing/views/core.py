"""Reads the pages need that servicing.selectors does not offer (yet).

Each uses the selector of that name when the core adds it; until then a one-line query.
"""

from __future__ import annotations

from typing import Any

from servicing import selectors
from servicing.models import Loan


def charge_off_open(loan: Loan) -> Any:
    """The loan's charge-off request waiting for a decision, if any."""
    finder = getattr(selectors, "loan_charge_off_open", None)
    if finder is not None:
        return finder(loan=loan)
    return loan.charge_offs.filter(status="requested").select_related("requested_by").first()


def modifications_pending(loan: Loan) -> list[Any]:
    """Modifications above the approval limit, waiting for a second person."""
    finder = getattr(selectors, "loan_modifications_pending", None)
    if finder is not None:
        return list(finder(loan=loan))
    return list(loan.modifications.filter(status="pending").select_related("requested_by"))


def loan_products() -> list[str]:
    """The product codes of the book, for the loan list's filter."""
    finder = getattr(selectors, "loan_product_codes", None)
    if finder is not None:
        return list(finder())
    return list(
        Loan.objects.order_by("product_code").values_list("product_code", flat=True).distinct()
    )
