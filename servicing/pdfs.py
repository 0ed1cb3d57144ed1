"""Servicing's PDFs other than statements (`servicing/statements.py` builds and stores those):
the payoff quote letter. Printed by `lendcore.core.pdf`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from lendcore.core.pdf import render_pdf
from servicing.models import Loan


def payoff_letter_pdf(*, loan: Loan, quote: Any) -> bytes:
    """The payoff quote letter a borrower (or staff for them) downloads."""
    return render_pdf(
        "portal/loans/payoff_letter.html",
        {
            "loan": loan,
            "borrower": loan.borrower,
            "quote": quote,
            "generated_at": timezone.now(),
            "lender_name": "LendCore",
        },
    )


def payoff_letter_filename(*, loan: Loan, quote: Any) -> str:
    return f"payoff-{loan.loan_number}-{quote.good_through:%Y-%m-%d}.pdf"
