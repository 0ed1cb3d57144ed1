"""The borrower portal's application pages: apply in steps, documents, status, the offer.

A borrower (signed in) reaches only their own applications: the selectors filter by the
borrower and anything else answers 404. The three apply steps keep their answers in the
session until "Create my application"; the SSN is kept there only between steps 2 and 3.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from lendcore.accounts.models import Borrower
from lendcore.accounts.selectors import borrower_for_user
from lendcore.core import crypto
from lendcore.errors import ApplicationError, ValidationFailed
from lendcore.quotes.services import FREQUENCIES
from origination import pricing, selectors, services
from origination.forms import (
    ApplicantForm,
    ApplyTermsForm,
    DisbursementAccountForm,
    DocumentUploadForm,
    PortalAcceptOfferForm,
    add_service_error,
)
from origination.models import Application, Document

from .common import (
    GENERATED_TYPES,
    application_or_404,
    client_ip,
    error_status,
    status_steps,
)

SESSION_KEY = "origination_apply"
TERMS_DEFAULTS = {"amount": "10000", "term": "36", "frequency": "monthly"}


class BorrowerRequiredMixin(LoginRequiredMixin):
    """Signed in with a borrower profile; a staff account gets a page explaining the portal."""

    borrower: Borrower

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        borrower = borrower_for_user(request.user)
        if borrower is None:
            return render(request, "portal/apply/no_borrower.html", status=403)
        self.borrower = borrower
        return super().dispatch(request, *args, **kwargs)


def _versions() -> dict[int, Any]:
    products = selectors.product_list(active_only=True)
    return {p.pk: selectors.product_current_version(p) for p in products}


def _own_application(request: HttpRequest, application_id: int) -> Application:
    application = application_or_404(request.user, application_id)
    # Staff who are also borrowers see every application through the selector; the portal
    # shows a borrower their own only.
    borrower = application.applicant.borrower
    if borrower is None or borrower.user_id != request.user.pk:
        raise Http404("Application not found.")
    return application


# --- the list --------------------------------------------------------------------------------


class ApplyHomeView(BorrowerRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        applications = (
            selectors.application_list(user=request.user)
            .filter(applicant__borrower=self.borrower)
            .select_related("offer")
        )
        return render(
            request,
            "portal/apply/home.html",
            {
                "applications": applications,
                "draft": request.session.get(SESSION_KEY),
                "invitations": selectors.borrower_invitations_pending(borrower=self.borrower),
            },
        )


# --- step 1: terms, with the live quote -----------------------------------------------------


def quote_context(form: ApplyTermsForm) -> dict[str, Any]:
    """The estimate per pricing tier: the rate (and so the payment) depends on the score."""
    if not form.is_valid():
        return {"quote_form": form, "estimates": None}
    data = form.cleaned_data
    version = form.versions[data["product"].pk]
    tiers = pricing.tiers_of(version) or [pricing.Tier(0, 0, version.base_rate, version.max_amount)]
    estimates = []
    try:
        for tier in sorted(tiers, key=lambda t: t.rate):
            quote = pricing.quote_for(
                version,
                amount=data["amount"],
                annual_rate=tier.rate,
                term=data["term"],
                frequency=data["frequency"],
                disbursement_date=timezone.localdate(),
            )
            estimates.append(
                {
                    "tier": tier,
                    "banded": bool(version.pricing_tiers),
                    "quote": quote,
                    "within": data["amount"] <= tier.max_amount,
                }
            )
    except ValidationFailed as error:
        add_service_error(form, error, aliases={"principal": "amount"})
        return {"quote_form": form, "estimates": None}
    return {
        "quote_form": form,
        "estimates": estimates,
        "version": version,
        "frequency_label": FREQUENCIES.get(data["frequency"], data["frequency"]),
        "fee": pricing.origination_fee(version, data["amount"]),
    }


class ApplyTermsView(BorrowerRequiredMixin, View):
    template = "portal/apply/terms.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        versions = _versions()
        saved = (request.session.get(SESSION_KEY) or {}).get("terms")
        initial = saved or dict(TERMS_DEFAULTS, product=next(iter(versions), None))
        form = ApplyTermsForm(initial, versions=versions)
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApplyTermsForm(request.POST, versions=_versions())
        if not form.is_valid():
            return self._render(request, form, status=400)
        state = request.session.get(SESSION_KEY) or {}
        state["terms"] = form.session_data()
        request.session[SESSION_KEY] = state
        return redirect("origination:portal-apply-details")

    def _render(self, request, form, status: int = 200) -> HttpResponse:
        context = quote_context(form)
        context["form"] = form
        context["step"] = 1
        return render(request, self.template, context, status=status)


class ApplyQuoteView(BorrowerRequiredMixin, View):
    """The estimate region alone (htmx swaps it as the borrower types)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        context = quote_context(ApplyTermsForm(request.GET, versions=_versions()))
        return render(request, "portal/apply/_quote.html", context)


# --- step 2: about you ------------------------------------------------------------------------


# The draft keys that hold (or mask) the SSN and the date of birth: never form initial values.
_SEALED = ("ssn", "date_of_birth")


def _on_file(draft: dict[str, Any]) -> dict[str, str]:
    return {
        "ssn_on_file": draft.get("ssn_last4", ""),
        "born_on_file": draft.get("date_of_birth_masked", ""),
    }


class ApplyDetailsView(BorrowerRequiredMixin, View):
    template = "portal/apply/details.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        state = request.session.get(SESSION_KEY) or {}
        if "terms" not in state:
            return redirect("origination:portal-apply-new")
        saved = state.get("applicant")
        if saved:
            # Back from the review: everything but the SSN and the date of birth, which stay
            # encrypted in the draft.
            initial = {k: v for k, v in saved.items() if not k.startswith(_SEALED)}
            form = ApplicantForm(initial=initial, **_on_file(saved))
            return self._render(request, form)
        initial = {
            "first_name": self.borrower.first_name,
            "last_name": self.borrower.last_name,
            "email": self.borrower.email,
            "months_employed": 0,
            "monthly_housing_payment": "0",
            "monthly_other_debts": "0",
        }
        return self._render(request, ApplicantForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        state = request.session.get(SESSION_KEY) or {}
        if "terms" not in state:
            return redirect("origination:portal-apply-new")
        previous = state.get("applicant") or {}
        form = ApplicantForm(request.POST, **_on_file(previous))
        if not form.is_valid():
            return self._render(request, form, status=400)
        state["applicant"] = form.session_data(previous=previous)
        request.session[SESSION_KEY] = state
        return redirect("origination:portal-apply-review")

    def _render(self, request, form, status: int = 200) -> HttpResponse:
        return render(request, self.template, {"form": form, "step": 2}, status=status)


# --- step 3: review and create ------------------------------------------------------------------


def _applicant_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in data.items() if not k.startswith(_SEALED)}
    # (a draft saved before drafts were encrypted holds `ssn` and `date_of_birth` themselves)
    kwargs["ssn"] = (
        crypto.decrypt(data["ssn_encrypted"]) if "ssn_encrypted" in data else data["ssn"]
    )
    kwargs["date_of_birth"] = date.fromisoformat(
        crypto.decrypt(data["date_of_birth_encrypted"])
        if "date_of_birth_encrypted" in data
        else data["date_of_birth"]
    )
    for name in ("monthly_income", "monthly_housing_payment", "monthly_other_debts"):
        kwargs[name] = Decimal(kwargs[name])
    return kwargs


class ApplyReviewView(BorrowerRequiredMixin, View):
    template = "portal/apply/review.html"

    def _state(self, request: HttpRequest) -> dict[str, Any] | None:
        state = request.session.get(SESSION_KEY) or {}
        return state if "terms" in state and "applicant" in state else None

    def get(self, request: HttpRequest) -> HttpResponse:
        state = self._state(request)
        if state is None:
            return redirect("origination:portal-apply-new")
        return self._render(request, state)

    def post(self, request: HttpRequest) -> HttpResponse:
        state = self._state(request)
        if state is None:
            return redirect("origination:portal-apply-new")
        terms = state["terms"]
        versions = _versions()
        product = next(
            (p for p in selectors.product_list(active_only=True) if p.pk == terms["product"]), None
        )
        if product is None or product.pk not in versions:
            return self._render(request, state, error="This product is not offered any more.")
        applicant_kwargs = _applicant_kwargs(state["applicant"])
        try:
            application = services.application_start(
                acting_user=request.user,
                borrower=self.borrower,
                applicant_fields=applicant_kwargs,
                product=product,
                amount=Decimal(terms["amount"]),
                term=int(terms["term"]),
                frequency=terms["frequency"],
                purpose=terms.get("purpose", ""),
            )
        except ApplicationError as error:
            fields = error.extra.get("fields") or {}
            detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in fields.items())
            return self._render(
                request,
                state,
                error=f"{error.message} {detail}".strip(),
                status=error_status(error),
            )
        request.session.pop(SESSION_KEY, None)
        messages.success(
            request, "Your application is saved. Upload your documents, then submit it."
        )
        return redirect("origination:portal-application", application_id=application.pk)

    def _render(self, request, state, error: str = "", status: int = 200) -> HttpResponse:
        terms = state["terms"]
        form = ApplyTermsForm({**terms, "product": terms["product"]}, versions=_versions())
        context = quote_context(form)
        applicant = dict(state["applicant"])
        last4 = applicant.get("ssn_last4") or applicant.get("ssn", "")[-4:]
        applicant["ssn_masked"] = "***-**-" + last4
        if "date_of_birth_masked" not in applicant:  # a draft from before drafts were encrypted
            applicant["date_of_birth_masked"] = f"••/••/{applicant['date_of_birth'][:4]}"
        context.update({"terms": terms, "applicant": applicant, "error": error, "step": 3})
        return render(request, self.template, context, status=status)


# --- an application: status, documents, submit, offer ------------------------------------------


def portal_context(request: HttpRequest, application: Application, **overrides: Any) -> dict:
    documents = list(selectors.document_list(application=application))
    checklist = [
        {**item, "label": Document.DocType(item["doc_type"]).label}
        for item in selectors.application_checklist(application)
    ]
    rejected = {d.doc_type: d for d in documents if d.status == Document.Status.REJECTED}
    for item in checklist:
        doc = rejected.get(item["doc_type"])
        item["reason"] = doc.review_reason if doc is not None else ""
    context = {
        "application": application,
        "offer": selectors.application_offer(application),
        "steps": status_steps(application),
        "events": list(application.events.all()),
        "uploads": [d for d in documents if d.doc_type in Document.UPLOAD_TYPES],
        "generated": [d for d in documents if d.doc_type in GENERATED_TYPES],
        "notice": next((d for d in documents if d.doc_type == "adverse_action_notice"), None),
        "checklist": checklist,
        "missing": [c for c in checklist if c["status"] in ("missing", "rejected")],
        "can_upload": application.accepts_documents(),
        "can_submit": application.can_submit(),
        "upload_form": DocumentUploadForm(
            initial={
                "doc_type": next(
                    (c["doc_type"] for c in checklist if c["status"] in ("missing", "rejected")),
                    "other",
                )
            }
        ),
        "submit_error": "",
    }
    context.update(overrides)
    return context


class PortalApplicationView(BorrowerRequiredMixin, View):
    def get(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _own_application(request, application_id)
        return render(
            request, "portal/apply/application.html", portal_context(request, application)
        )


class PortalDocumentUploadView(BorrowerRequiredMixin, View):
    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _own_application(request, application_id)
        form = DocumentUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, application, form, 400)
        try:
            document = services.document_upload(
                application=application,
                acting_user=request.user,
                doc_type=form.cleaned_data["doc_type"],
                file=form.cleaned_data["file"],
            )
        except ApplicationError as error:
            add_service_error(form, error)
            return self._render(request, application, form, error_status(error))
        messages.success(request, f"{Document.DocType(document.doc_type).label} uploaded.")
        return redirect("origination:portal-application", application_id=application.pk)

    def _render(self, request, application, form, status: int) -> HttpResponse:
        context = portal_context(request, application, upload_form=form)
        return render(request, "portal/apply/application.html", context, status=status)


class PortalSubmitView(BorrowerRequiredMixin, View):
    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _own_application(request, application_id)
        try:
            services.application_submit(application=application, acting_user=request.user)
        except ApplicationError as error:
            context = portal_context(request, application, submit_error=error.message)
            return render(
                request, "portal/apply/application.html", context, status=error_status(error)
            )
        messages.success(request, "Submitted. We are checking your application now.")
        return redirect("origination:portal-application", application_id=application.pk)


class PortalOfferView(BorrowerRequiredMixin, View):
    """The offer with its Truth in Lending box, schedule and the (masked) account the loan is
    paid to; POST accepts with a typed name (and the account when none is on file)."""

    template = "portal/apply/offer.html"

    def get(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _own_application(request, application_id)
        return self.render_page(request, application)

    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _own_application(request, application_id)
        form = PortalAcceptOfferForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, application, form=form, status=400)
        try:
            services.offer_accept(
                application=application,
                acting_user=request.user,
                signature_name=form.cleaned_data["signature_name"],
                ip_address=client_ip(request),
                disbursement_account=form.cleaned_data["disbursement_account"] or None,
            )
        except ApplicationError as error:
            add_service_error(form, error)
            application = _own_application(request, application_id)
            return self.render_page(request, application, form=form, status=error_status(error))
        messages.success(request, "You accepted the offer. We will pay out the loan shortly.")
        return redirect("origination:portal-application", application_id=application.pk)

    def render_page(
        self, request, application, *, form=None, account_form=None, status: int = 200
    ) -> HttpResponse:
        offer = selectors.application_offer(application)
        if offer is None:
            raise Http404("This application has no offer.")
        return render(
            request,
            self.template,
            {
                "application": application,
                "offer": offer,
                "form": form or PortalAcceptOfferForm(),
                "account_form": account_form or DisbursementAccountForm(),
                "can_accept": application.can_accept_offer() and offer.is_open(),
                "can_change_account": application.status
                in (Application.Status.APPROVED, Application.Status.OFFER_ACCEPTED),
                "version": application.product_version,
                "frequency_label": FREQUENCIES.get(offer.frequency, offer.frequency),
            },
            status=status,
        )
