"""The borrower's loans: list, loan page, a one-time payment (with a confirmation step) that
is a debit through the payment rail, pending until close of business settles it (and
cancellable until it is sent), statements and the payoff quote letter. A borrower only ever
reaches their own loans: anything else answers 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views import View

from lendcore.accounts.selectors import borrower_for_user
from lendcore.errors import ApplicationError, NotFound
from servicing import (
    autopay,
    loan_history,
    rail_payment_reads,
    rail_payments,
    selectors,
    services,
    servicing_history_reads,
)
from servicing.forms import (
    AutopayCancelForm,
    AutopayEnrolForm,
    PaymentRequestCancelForm,
    PortalPaymentForm,
    PortalPayoffForm,
)
from servicing.models import Loan

from . import run_once
from .staff import payoff_letter_response, statement_file_response


def _borrower_loans(request: HttpRequest):
    """The signed-in borrower's own loans (staff see none here: the portal is for borrowers)."""
    borrower = borrower_for_user(request.user)
    if borrower is None:
        return None, Loan.objects.none()
    return borrower, selectors.loans_visible_to(request.user).filter(borrower=borrower)


def portal_loan_or_404(request: HttpRequest, loan_id: int) -> Loan:
    borrower, _ = _borrower_loans(request)
    if borrower is None:
        raise Http404("No such loan.")
    try:
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
    except NotFound:
        raise Http404("No such loan.") from None
    if loan.borrower_id != borrower.pk:
        raise Http404("No such loan.")
    return loan


class PortalLoanListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        on = selectors.business_date_get()
        borrower, qs = _borrower_loans(request)
        if borrower is None:
            # a staff account: the portal is for borrowers (as the portal's apply pages say)
            return render(request, "portal/loans/no_borrower.html", status=403)
        loans = list(selectors.loans_with_due(qs.order_by("-id"), on=on))
        balances = selectors.loan_balances_many(loans, on=on)
        return render(
            request,
            "portal/loans/list.html",
            {
                "borrower": borrower,
                "rows": [(loan, balances[loan.pk]) for loan in loans],
                "business_date": on,
            },
        )


def _detail_context(request: HttpRequest, loan: Loan, **extra: Any) -> dict[str, Any]:
    on = selectors.business_date_get()
    pending = rail_payment_reads.loan_payment_requests(loan=loan, open_only=True)
    context = {
        "loan": loan,
        "balances": selectors.loan_balances(loan, on=on),
        "business_date": on,
        "pending_payments": rail_payment_reads.payment_request_rows(pending, today=on),
        "cancel_form": PaymentRequestCancelForm(),
        "page_error": None,
        "schedule": selectors.loan_schedule_rows(loan=loan, on=on),
        "transactions": loan_history.loan_transactions(loan=loan),
        "statements": list(selectors.loan_statements(loan=loan)),
        "payoff_form": PortalPayoffForm(initial={"date": on}),
        "quote": None,
        "is_active": loan.status == Loan.Status.ACTIVE,
        "autopay": servicing_history_reads.loan_autopay_active(loan=loan),
        "autopay_form": AutopayEnrolForm(),
        "autopay_cancel_form": AutopayCancelForm(),
        "autopay_authorization": autopay.AUTHORIZATION_TEXT,
    }
    context.update(extra)
    return context


class PortalLoanDetailView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        return render(request, "portal/loans/detail.html", _detail_context(request, loan))


class PortalPaymentView(LoginRequiredMixin, View):
    """Step 1 (GET / POST step=review): amount and account; step 2 (POST step=confirm):
    the borrower confirms and the payment is asked for through the rail, once per form key:
    pending until close of business settles it."""

    template_name = "portal/loans/pay.html"

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        balances = selectors.loan_balances(loan)
        # shown as typed money: "106.62" (a database sum may carry trailing zeros)
        suggested = f"{balances.next_due_amount:.2f}" if balances.next_due_amount else None
        form = PortalPaymentForm(initial={"amount": suggested})
        return self._page(loan, form, balances=balances)

    def post(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        form = PortalPaymentForm(request.POST)
        step = request.POST.get("step", "review")
        if not form.is_valid():
            return self._page(loan, form, status=400)
        if step != "confirm":  # review (or "edit" back from the confirmation)
            confirm = step == "review"
            return self._page(loan, form, confirm=confirm)
        data = form.cleaned_data
        user = request.user
        result = run_once(
            request,
            scope=f"portal-pay:loan:{loan.pk}",
            form=form,
            perform=lambda: _request_payment(loan, data, user),
        )
        if result.status >= 400:
            form.add_service_error(result.body or {})
            form.renew_key()
            return self._page(loan, form, status=result.status)
        body = result.body
        settles_on = date_format(date.fromisoformat(body["settles_on"]), "F j, Y")
        messages.success(
            request,
            f"Your payment of ${body['amount']} is pending; it settles at close of business "
            f"on {settles_on} (confirmation #{body['payment_request_id']}).",
        )
        return redirect(reverse("servicing:portal-loan-detail", args=[loan.pk]) + "#pending")

    def _page(
        self,
        loan: Loan,
        form: PortalPaymentForm,
        *,
        confirm: bool = False,
        status: int = 200,
        balances: Any = None,
    ) -> HttpResponse:
        on = selectors.business_date_get()
        context = {
            "loan": loan,
            "form": form,
            "confirm": confirm,
            "balances": balances or selectors.loan_balances(loan, on=on),
            "business_date": on,
        }
        if confirm:
            data = form.cleaned_data
            digits = "".join(c for c in data["account_number"] if c.isdigit())
            context["method_label"] = rail_payments.METHOD_LABELS[data["method"]].lower()
            context["account_last4"] = digits[-4:]
            context["sealed_account"] = form.sealed()  # the numbers never in clear in the page
            # the close of business of the business date sends it; the rail says when it settles
            context["settles_on"] = rail_payments.payment_rail().one_time_settle_on(on)
        return render(self.request, self.template_name, context, status=status)


def _request_payment(loan: Loan, data: dict[str, Any], user) -> dict[str, Any]:
    transfer = rail_payments.payment_request_create(
        loan=loan,
        amount=data["amount"],
        method=data["method"],
        account_number=data["account_number"],
        routing_number=data["routing_number"],
        acting_user=user,
    )
    row = rail_payment_reads.payment_request_rows([transfer], today=transfer.business_date)[0]
    settles_on = row.expected_settlement_date or transfer.business_date
    return {
        "payment_request_id": transfer.pk,
        "amount": f"{transfer.amount:,.2f}",
        "settles_on": settles_on.isoformat(),
    }


class PortalPaymentCancelView(LoginRequiredMixin, View):
    """POST: cancel a payment not sent yet, once per form key; a refusal (409 once close of
    business sent it) is shown as a page error on the loan page."""

    def post(self, request: HttpRequest, loan_id: int, transfer_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        try:
            transfer = rail_payment_reads.payment_request_get_visible(
                user=request.user, transfer_id=transfer_id
            )
        except NotFound:
            raise Http404("No such payment.") from None
        if transfer.loan_id != loan.pk:
            raise Http404("No such payment.")
        form = PaymentRequestCancelForm(request.POST)
        if not form.is_valid():
            error = "The page was out of date; nothing was cancelled. Please try again."
            context = _detail_context(request, loan, page_error=error)
            return render(request, "portal/loans/detail.html", context, status=400)
        user = request.user
        result = run_once(
            request,
            scope=f"portal-cancel:payment:{transfer.pk}",
            form=form,
            perform=lambda: _cancel_payment(transfer, user),
        )
        if result.status >= 400:
            error = (result.body or {}).get("message", "That did not work.")
            context = _detail_context(request, loan, page_error=error)
            return render(request, "portal/loans/detail.html", context, status=result.status)
        messages.success(request, f"Your payment of ${result.body['amount']} is cancelled.")
        return redirect(reverse("servicing:portal-loan-detail", args=[loan.pk]) + "#pending")


def _cancel_payment(transfer: Any, user) -> dict[str, Any]:
    cancelled = rail_payments.payment_request_cancel(transfer=transfer, acting_user=user)
    return {"payment_request_id": cancelled.pk, "amount": f"{cancelled.amount:,.2f}"}


class PortalAutopayEnrolView(LoginRequiredMixin, View):
    """POST: enrol the loan in autopay (or change its account), once per form key, with the
    borrower's authorization; bad input (400) or a loan that is not active (409) draws the
    loan page again with the form's errors, nothing changed."""

    def post(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        form = AutopayEnrolForm(request.POST)
        if not form.is_valid():
            return _autopay_refused(request, loan, form, status=400)
        data = form.cleaned_data
        user = request.user
        result = run_once(
            request,
            scope=f"portal-autopay:loan:{loan.pk}",
            form=form,
            perform=lambda: _enrol(loan, data, user),
        )
        if result.status >= 400:
            form.add_service_error(result.body or {})
            form.renew_key()
            return _autopay_refused(request, loan, form, status=result.status)
        messages.success(
            request,
            f"Autopay is on: each installment is debited from your bank account "
            f"****{result.body['account_last4']} on its due date.",
        )
        return redirect(reverse("servicing:portal-loan-detail", args=[loan.pk]) + "#autopay")


def _autopay_refused(request: HttpRequest, loan: Loan, form: AutopayEnrolForm, *, status: int):
    context = _detail_context(request, loan, autopay_form=form, autopay_open=True)
    return render(request, "portal/loans/detail.html", context, status=status)


def _enrol(loan: Loan, data: dict[str, Any], user) -> dict[str, Any]:
    enrolment = autopay.autopay_enrol(
        loan=loan,
        account_number=data["account_number"],
        routing_number=data["routing_number"],
        authorized=data["authorized"],
        acting_user=user,
    )
    return {"enrolment_id": enrolment.pk, "account_last4": enrolment.account_last4}


class PortalAutopayCancelView(LoginRequiredMixin, View):
    """POST: cancel the loan's autopay, once per form key; a refusal (409: not enrolled, or the
    loan is not active) is shown as a page error on the loan page."""

    def post(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        form = AutopayCancelForm(request.POST)
        if not form.is_valid():
            error = "The page was out of date; nothing was cancelled. Please try again."
            context = _detail_context(request, loan, page_error=error)
            return render(request, "portal/loans/detail.html", context, status=400)
        user = request.user
        result = run_once(
            request,
            scope=f"portal-autopay-cancel:loan:{loan.pk}",
            form=form,
            perform=lambda: _cancel_autopay(loan, user),
        )
        if result.status >= 400:
            error = (result.body or {}).get("message", "That did not work.")
            context = _detail_context(request, loan, page_error=error)
            return render(request, "portal/loans/detail.html", context, status=result.status)
        messages.success(
            request,
            f"Autopay from bank account ****{result.body['account_last4']} is cancelled; "
            "no more automatic debits will be made.",
        )
        return redirect(reverse("servicing:portal-loan-detail", args=[loan.pk]) + "#autopay")


def _cancel_autopay(loan: Loan, user) -> dict[str, Any]:
    enrolment = autopay.autopay_cancel(loan=loan, acting_user=user)
    return {"enrolment_id": enrolment.pk, "account_last4": enrolment.account_last4}


class PortalStatementDownloadView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, statement_id: int) -> FileResponse:
        borrower, _ = _borrower_loans(request)
        if borrower is None:
            raise Http404("No such statement.")
        return statement_file_response(request, statement_id)


class PortalPayoffQuoteView(LoginRequiredMixin, View):
    """The payoff quote for a date on the loan page, or (format=pdf) the letter as a PDF."""

    def get(self, request: HttpRequest, loan_id: int) -> HttpResponse:
        loan = portal_loan_or_404(request, loan_id)
        form = PortalPayoffForm(request.GET)
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
            return _payoff_letter(request, loan, quote)
        if request.headers.get("HX-Request") == "true":
            return render(
                request,
                "portal/loans/_payoff_quote.html",
                {"loan": loan, "payoff_form": form, "quote": quote},
            )
        context = _detail_context(request, loan, payoff_form=form, quote=quote)
        return render(request, "portal/loans/detail.html", context, status=status)


def _payoff_letter(request: HttpRequest, loan: Loan, quote: Any) -> HttpResponse:
    return payoff_letter_response(loan, quote)
