"""PDFs from templates under templates/origination/pdf/, printed by lendcore.core.pdf."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from lendcore.core.pdf import render_pdf

from .models import Application, BureauReport, Offer


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
