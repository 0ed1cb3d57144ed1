"""The staff loan desk: the loan list, the loan page and one small view per action.

Each action view parses its form, calls one service (once per form key), then redirects to
the loan page with a message, or draws the loan page again with that form's errors
(400 bad input, 409 not allowed in the loan's state).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_can
from lendcore.core import panels
from lendcore.errors import ApplicationError, NotFound
from servicing import (
    loan_history,
    pdfs,
    rail_payment_reads,
    selectors,
    services,
    servicing_history_reads,
)
from servicing.autopay import AUTHORIZATION_TEXT
from servicing.forms import (
    AutopayCancelForm,
    ChargeOffDecideForm,
    ChargeOffRequestForm,
    ChargeOffUndoForm,
    FeeAssessForm,
    FeeWaiveForm,
    IdempotentForm,
    LoanFilterForm,
    ModificationDecideForm,
    ModificationForm,
    PaymentForm,
    PayoffQuoteForm,
    PrepaymentForm,
    RefundForm,
    ReverseForm,
    StaffAutopayEnrolForm,
)
from servicing.models import Loan, Modification, Payment
from servicing.views.loan_as_of import as_of_context

from . import core, run_once

PAGE_SIZE = 25
RECENT_ROWS = 50  # journal and timeline rows on the loan page; the rest on their own pages

VIEW_PERMISSIONS: tuple[str, ...] = (Action.READ_LOAN,)


def loan_or_404(request: HttpRequest, loan_id: int) -> Loan:
    try:
        return selectors.loan_get_visible(user=request.user, loan_id=loan_id)
    except NotFound as error:
        raise Http404(error.message) from None


# --------------------------------------------------------------------------- list


class StaffLoanListView(StaffRequiredMixin, TemplateView):
    template_name = "staff/servicing/loan_list.html"
    required_permissions = VIEW_PERMISSIONS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        on = selectors.business_date_get()
        products = core.loan_products()
        form = LoanFilterForm(self.request.GET or None, products=products)
        filters: dict[str, Any] = {}
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            dpd_min, dpd_max = form.dpd_range()
            filters = {
                "status": data["status"],
                "product": data["product"],
                "dpd_min": dpd_min,
                "dpd_max": dpd_max,
                "q": data["q"],
            }
        # the same filters, with the same meaning, as the API's loan list
        filters = {name: value for name, value in filters.items() if value not in (None, "")}
        qs = selectors.loan_list(user=self.request.user, filters=filters, on=on).order_by("-id")
        page = Paginator(qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        loans = list(page.object_list)
        balances = selectors.loan_balances_many(loans, on=on)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "form": form,
                "page": page,
                "rows": [(loan, balances[loan.pk]) for loan in loans],
                "business_date": on,
                "query": query.urlencode(),
            }
        )
        return context


# --------------------------------------------------------------------------- loan page


def _can(request: HttpRequest, action: Action) -> bool:
    return user_can(request.user, action)


# the actions the loan page has a form for
ACTION_FORMS = (
    Action.POST_PAYMENT,
    Action.REVERSE_PAYMENT,
    Action.MODIFY_LOAN,
    Action.CHARGE_OFF,
    Action.MANAGE_FEES,
)


def loan_page_context(
    request: HttpRequest,
    loan: Loan,
    *,
    bound: IdempotentForm | PayoffQuoteForm | None = None,
    quote: Any = None,
) -> dict[str, Any]:
    """Everything the loan page draws; `bound` replaces the blank form of the same prefix."""
    on = selectors.business_date_get()
    payments = list(selectors.loan_payments(loan=loan))
    fees = list(selectors.loan_fees(loan=loan))
    posted = [p for p in payments if p.status == Payment.Status.POSTED]
    open_fees = [f for f in fees if f.outstanding > 0]
    blank_date = {"effective_date": on}
    forms: dict[str, Any] = {
        "pay": PaymentForm(prefix="pay", initial=blank_date),
        "prepay": PrepaymentForm(prefix="prepay", initial={**blank_date, "reference": ""}),
        "reverse": ReverseForm(
            prefix="reverse",
            payments=posted,
            initial={"payment": request.GET.get("reverse")},
        ),
        "fee": FeeAssessForm(prefix="fee"),
        "waive": FeeWaiveForm(
            prefix="waive", fees=open_fees, initial={"fee": request.GET.get("waive")}
        ),
        "payoff": PayoffQuoteForm(prefix="payoff", initial={"date": on}),
        "modify": ModificationForm(prefix="modify"),
        "chargeoff": ChargeOffRequestForm(prefix="chargeoff"),
        "decide": ChargeOffDecideForm(prefix="decide"),
        "moddecide": ModificationDecideForm(prefix="moddecide"),
        "undo": ChargeOffUndoForm(prefix="undo"),
        "refund": RefundForm(prefix="refund"),
        "autopay": StaffAutopayEnrolForm(prefix="autopay"),
        "autopaycancel": AutopayCancelForm(prefix="autopaycancel"),
    }
    if bound is not None:
        forms[bound.prefix or ""] = bound
    charge_off = core.charge_off_open(loan)
    return {
        "loan": loan,
        "balances": selectors.loan_balances(loan, on=on),
        "business_date": on,
        "schedule": selectors.loan_schedule_rows(loan=loan, on=on),
        "schedule_versions": list(selectors.loan_schedule_versions(loan=loan)),
        "transactions": loan_history.loan_transactions(loan=loan),
        # the borrower's one-time payments through the rail not posted yet (read-only here)
        "pending_payments": rail_payment_reads.payment_request_rows(
            rail_payment_reads.loan_payment_requests(loan=loan, open_only=True), today=on
        ),
        "journal": list(selectors.loan_journal(loan=loan)[:RECENT_ROWS]),
        "timeline": list(selectors.loan_timeline(loan=loan)[:RECENT_ROWS]),
        "statements": list(selectors.loan_statements(loan=loan)),
        # delinquency, reminders and autopay: the latest rows of each (servicing_history_reads)
        "history": servicing_history_reads.loan_servicing_history(loan=loan),
        "autopay_authorization": AUTHORIZATION_TEXT,
        # what other apps show on the loan page (origination: the application's documents)
        "panels": panels.panels_for("loan", loan, request),
        "recent_rows": RECENT_ROWS,
        "forms": forms,
        "open_action": bound.prefix if bound is not None else request.GET.get("action", ""),
        "posted_payments": posted,
        "open_fees": open_fees,
        "quote": quote,
        "charge_off": charge_off,
        "pending_modifications": core.modifications_pending(loan),
        "can_act": any(_can(request, action) for action in ACTION_FORMS),
        "can_service": _can(request, Action.POST_PAYMENT),
        "can_reverse": _can(request, Action.REVERSE_PAYMENT),
        "can_modify": _can(request, Action.MODIFY_LOAN),
        "can_charge_off": _can(request, Action.CHARGE_OFF),
        "can_fees": _can(request, Action.MANAGE_FEES),
        "can_approve": _can(request, Action.APPROVE_CHARGE_OFF),
        "can_approve_modifications": _can(request, Action.APPROVE_MODIFICATION),
        "is_active": loan.status == Loan.Status.ACTIVE,
    }


class StaffLoanDetailView(StaffRequiredMixin, View):
    required_permissions = VIEW_PERMISSIONS

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = loan_or_404(request, loan_id)
        context = loan_page_context(request, loan)
        # the date picker's block (`?as_of=`): its own context, the page stays today's
        as_of, status = as_of_context(request, loan)
        return render(request, "staff/servicing/loan_detail.html", context | as_of, status=status)


class StaffLoanJournalView(StaffRequiredMixin, View):
    """The whole journal of a loan, paginated (the loan page shows the latest entries)."""

    required_permissions = VIEW_PERMISSIONS

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = loan_or_404(request, loan_id)
        page = Paginator(selectors.loan_journal(loan=loan), 100).get_page(request.GET.get("page"))
        return render(request, "staff/servicing/loan_journal.html", {"loan": loan, "page": page})


class StaffLoanTimelineView(StaffRequiredMixin, View):
    required_permissions = VIEW_PERMISSIONS

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = loan_or_404(request, loan_id)
        page = Paginator(selectors.loan_timeline(loan=loan), 100).get_page(request.GET.get("page"))
        return render(request, "staff/servicing/loan_timeline.html", {"loan": loan, "page": page})


class StaffStatementDownloadView(StaffRequiredMixin, View):
    required_permissions = VIEW_PERMISSIONS

    def get(self, request: HttpRequest, statement_id: int) -> FileResponse:
        return statement_file_response(request, statement_id)


def statement_file_response(request: HttpRequest, statement_id: int) -> FileResponse:
    try:
        statement = selectors.statement_get_visible(user=request.user, statement_id=statement_id)
    except NotFound as error:
        raise Http404(error.message) from None
    if not statement.pdf:
        raise Http404("This statement has no document yet.")
    name = f"statement-{statement.loan.loan_number}-{statement.period_end:%Y-%m-%d}.pdf"
    return FileResponse(
        statement.pdf.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


def payoff_letter_response(loan: Loan, quote: Any) -> HttpResponse:
    """The payoff quote letter as a PDF attachment."""
    response = HttpResponse(
        pdfs.payoff_letter_pdf(loan=loan, quote=quote), content_type="application/pdf"
    )
    name = pdfs.payoff_letter_filename(loan=loan, quote=quote)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --------------------------------------------------------------------------- actions


class LoanActionView(StaffRequiredMixin, View):
    """POST one action's form; its prefix names the form on the loan page."""

    prefix = ""
    form_class: type[IdempotentForm] = IdempotentForm
    required_permissions: tuple[str, ...] = (Action.POST_PAYMENT,)

    def build_form(self, loan: Loan, data: Any) -> IdempotentForm:
        return self.form_class(data, prefix=self.prefix)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:  # returns the success message
        raise NotImplementedError

    def post(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = loan_or_404(request, loan_id)
        form = self.build_form(loan, request.POST)
        if not form.is_valid():
            return self.refused(loan, form, status=400)
        result = run_once(
            request,
            scope=f"{self.prefix}:loan:{loan.pk}",
            form=form,
            perform=lambda: {"message": self.perform(loan, form.cleaned_data)},
        )
        if result.status >= 400:
            form.add_service_error(result.body or {})
            form.renew_key()
            return self.refused(loan, form, status=result.status)
        message = result.body.get("message", "Done.")
        if result.replayed:
            message = f"Already done (the form was sent twice): {message}"
        messages.success(request, message)
        return redirect(reverse("servicing:staff-loan-detail", args=[loan.pk]) + f"#{self.prefix}")

    def refused(self, loan: Loan, form: IdempotentForm, *, status: int) -> HttpResponse:
        loan = loan_or_404(self.request, loan.pk)  # fresh figures after a refused service call
        context = loan_page_context(self.request, loan, bound=form)
        return render(self.request, "staff/servicing/loan_detail.html", context, status=status)


def _money(value: Any) -> str:
    return f"{value:,.2f}"


class PaymentPostView(LoanActionView):
    prefix = "pay"
    form_class = PaymentForm

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        payment = services.payment_post(
            loan=loan,
            amount=data["amount"],
            effective_date=data["effective_date"],
            method=data["method"],
            reference=data["reference"],
            acting_user=self.request.user,
            allow_credit=data["allow_credit"],
        )
        return f"Payment #{payment.pk} of {_money(payment.amount)} posted."


class PrepaymentView(PaymentPostView):
    prefix = "prepay"
    form_class = PrepaymentForm

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        data = {**data, "reference": data["reference"] or "Prepayment"}
        payment = services.payment_post(
            loan=loan,
            amount=data["amount"],
            effective_date=data["effective_date"],
            method=data["method"],
            reference=data["reference"],
            acting_user=self.request.user,
            allow_credit=data["allow_credit"],
        )
        return (
            f"Prepayment #{payment.pk} of {_money(payment.amount)} posted; "
            f"{_money(payment.alloc_excess)} went to principal ahead of schedule."
        )


class PaymentReverseView(LoanActionView):
    prefix = "reverse"
    form_class = ReverseForm
    required_permissions = (Action.REVERSE_PAYMENT,)

    def build_form(self, loan: Loan, data: Any) -> IdempotentForm:
        payments = [
            p for p in selectors.loan_payments(loan=loan) if p.status == Payment.Status.POSTED
        ]
        # a reversed payment still parses, so the service can say it is already reversed
        choices = list(selectors.loan_payments(loan=loan))
        form = ReverseForm(data, prefix=self.prefix, payments=choices)
        form.posted_payments = payments  # type: ignore[attr-defined]
        return form

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        payment = selectors.payment_get_visible(user=self.request.user, payment_id=data["payment"])
        payment = services.payment_reverse(
            payment=payment, reason=data["reason"], nsf=data["nsf"], acting_user=self.request.user
        )
        text = f"Payment #{payment.pk} of {_money(payment.amount)} reversed."
        if payment.nsf:
            text += " The NSF fee of the loan's policy was charged."
        return text


class FeeAssessView(LoanActionView):
    prefix = "fee"
    form_class = FeeAssessForm
    required_permissions = (Action.MANAGE_FEES,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        fee = services.fee_assess(
            loan=loan,
            kind=data["kind"],
            amount=data["amount"],
            reason=data["reason"],
            acting_user=self.request.user,
        )
        return f"{fee.get_kind_display()} of {_money(fee.amount)} assessed."


class FeeWaiveView(LoanActionView):
    prefix = "waive"
    form_class = FeeWaiveForm
    required_permissions = (Action.MANAGE_FEES,)

    def build_form(self, loan: Loan, data: Any) -> IdempotentForm:
        return FeeWaiveForm(data, prefix=self.prefix, fees=list(selectors.loan_fees(loan=loan)))

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        fee = selectors.fee_get(user=self.request.user, fee_id=data["fee"])
        if fee.loan_id != loan.pk:
            raise NotFound("No such fee on this loan.")
        waiver = services.fee_waive(
            fee=fee, amount=data["amount"], reason=data["reason"], acting_user=self.request.user
        )
        return f"{_money(waiver.amount)} of fee #{fee.pk} waived."


class ModificationView(LoanActionView):
    prefix = "modify"
    form_class = ModificationForm
    required_permissions = (Action.MODIFY_LOAN,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        modification = services.loan_modify(
            loan=loan,
            annual_rate_pct=data["annual_rate_pct"],
            remaining_term=data["remaining_term"],
            due_day=data["due_day"],
            defer_installments=data["defer_installments"] or 0,
            reason=data["reason"],
            acting_user=self.request.user,
        )
        if modification.status == Modification.Status.PENDING:
            return (
                f"Modification #{modification.pk} requested: beyond the approval limit or "
                "your role's modification limits it waits for a second person's approval."
            )
        return f"Modification #{modification.pk} applied: a new schedule version is in force."


class ModificationDecideView(LoanActionView):
    prefix = "moddecide"
    form_class = ModificationDecideForm
    required_permissions = (Action.APPROVE_MODIFICATION,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        approve = data["decision"] == "approve"
        modification = services.modification_decide(
            loan=loan,
            modification_id=data["modification"],
            approve=approve,
            reason=data["reason"],
            acting_user=self.request.user,
        )
        return f"Modification #{modification.pk} {modification.get_status_display().lower()}."


class ChargeOffRequestView(LoanActionView):
    prefix = "chargeoff"
    form_class = ChargeOffRequestForm
    required_permissions = (Action.CHARGE_OFF,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        services.charge_off_request(loan=loan, reason=data["reason"], acting_user=self.request.user)
        return "Charge-off requested; another person with approval rights must approve it."


class ChargeOffDecideView(LoanActionView):
    prefix = "decide"
    form_class = ChargeOffDecideForm
    required_permissions = (Action.APPROVE_CHARGE_OFF,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        approve = data["decision"] == "approve"
        services.charge_off_decide(
            loan=loan, approve=approve, reason=data["reason"], acting_user=self.request.user
        )
        if approve:
            return "Charge-off approved: the remaining balance is written off."
        return "Charge-off request rejected."


class ChargeOffUndoView(LoanActionView):
    prefix = "undo"
    form_class = ChargeOffUndoForm
    required_permissions = (Action.APPROVE_CHARGE_OFF,)

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        services.charge_off_undo(loan=loan, reason=data["reason"], acting_user=self.request.user)
        return "Charge-off undone: the loan is active again."


class CreditRefundView(LoanActionView):
    prefix = "refund"
    form_class = RefundForm

    def perform(self, loan: Loan, data: dict[str, Any]) -> str:
        amount = services.credit_refund(
            loan=loan, amount=data["amount"], acting_user=self.request.user
        )
        return f"{_money(amount)} of credit balance refunded to the borrower."


class PayoffQuoteView(StaffRequiredMixin, View):
    """GET: a payoff quote for a date; htmx gets the quote region, others the whole page."""

    required_permissions = (Action.READ_LOAN,)

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = loan_or_404(request, loan_id)
        form = PayoffQuoteForm(request.GET, prefix="payoff")
        quote = None
        status = 200
        if form.is_valid():
            try:
                quote = services.payoff_quote(loan=loan, on=form.cleaned_data["date"])
            except ApplicationError as error:
                form.add_service_error(error)
                status = error.http_status
        else:
            status = 400
        if quote is not None and request.GET.get("format") == "pdf":
            return payoff_letter_response(loan, quote)
        if request.headers.get("HX-Request") == "true":
            context = {"loan": loan, "form": form, "quote": quote, "staff": True}
            return render(request, "staff/servicing/_payoff_quote.html", context)
        context = loan_page_context(request, loan, bound=form, quote=quote)
        return render(request, "staff/servicing/loan_detail.html", context, status=status)


__all__ = [
    "ChargeOffDecideView",
    "ChargeOffRequestView",
    "ChargeOffUndoView",
    "CreditRefundView",
    "FeeAssessView",
    "FeeWaiveView",
    "ModificationDecideView",
    "ModificationView",
    "PaymentPostView",
    "PaymentReverseView",
    "PayoffQuoteView",
    "PrepaymentView",
    "StaffLoanDetailView",
    "StaffLoanJournalView",
    "StaffLoanListView",
    "StaffLoanTimelineView",
    "StaffStatementDownloadView",
]
