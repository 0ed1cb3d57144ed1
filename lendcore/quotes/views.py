"""The portal loan calculator: a full page, and the result partial htmx swaps in as you type."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.views.generic import TemplateView

from lendcore.errors import ValidationFailed

from . import services
from .forms import CalculatorForm


def calculator_context(form: CalculatorForm) -> dict[str, Any]:
    """The form and, when its terms are acceptable, their quote and chart data."""
    quote = None
    if form.is_valid():
        try:
            quote = services.quote_build(
                **form.service_kwargs(), disbursement_date=timezone.localdate()
            )
        except ValidationFailed as error:
            form.add_service_error(error)
    chart = None
    if quote is not None:
        chart = {
            "labels": [item.number for item in quote.installments],
            "dates": [item.due_date.isoformat() for item in quote.installments],
            "principal": [str(item.principal) for item in quote.installments],
            "interest": [str(item.interest) for item in quote.installments],
        }
    return {
        "form": form,
        "quote": quote,
        "chart": chart,
        "frequency_label": services.FREQUENCIES[quote.frequency] if quote else "",
        "invalid_fields": " ".join(name for name in form.errors if name in form.fields),
    }


class CalculatorView(TemplateView):
    """The whole page; the query string (a plain form submit without JavaScript) fills it."""

    template_name = "portal/calculator.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(calculator_context(CalculatorForm.from_query(self.request.GET)))
        return context


class CalculatorResultView(TemplateView):
    """The result region alone: figures, chart and schedule, or the form's errors (200)."""

    template_name = "portal/_calculator_result.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(calculator_context(CalculatorForm(data=self.request.GET)))
        # htmx swaps the result region; the field errors under the inputs go out of band.
        context["oob"] = self.request.headers.get("HX-Request") == "true"
        return context
