"""The one WeasyPrint wrapper: every PDF (statements, payoff letters, disclosures, adverse
action notices) is HTML rendered from a template, then printed here."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """`html` printed to PDF bytes; `base_url` resolves relative links (images, stylesheets)."""
    from weasyprint import HTML  # imported late: loading pango is slow

    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf


def render_pdf(template: str, context: dict[str, Any], *, base_url: str | None = None) -> bytes:
    """The template rendered with `context`, printed to PDF bytes."""
    return html_to_pdf(render_to_string(template, context), base_url=base_url)
