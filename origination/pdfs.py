"""PDFs rendered with WeasyPrint from templates under templates/origination/pdf/."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from .models import Application, BureauReport, Offer


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported late: loading pango is slow

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def _common(application: Application) -> dict[str, Any]:
    return {
        "application": application,
        "applicant": application.applicant,
        "product": application.product,
        "generated_at": timezone.now(),
        "lender_name": "LendCore",
    }


def adverse_action_pdf(
    *, application: Application, reasons: list[dict[str, str]], report: BureauReport | None
) -> bytes:
    context = _common(application)
    context.update({"reasons": reasons, "report": report})
    return render_pdf("origination/pdf/adverse_action.html", context)


def tila_disclosure_pdf(*, application: Application, offer: Offer) -> bytes:
    context = _common(application)
    context.update({"offer": offer})
    return render_pdf("origination/pdf/tila_disclosure.html", context)


def loan_agreement_pdf(
    *, application: Application, offer: Offer, signature: dict[str, Any]
) -> bytes:
    context = _common(application)
    context.update({"offer": offer, "signature": signature, "version": application.product_version})
    return render_pdf("origination/pdf/loan_agreement.html", context)
