"""The staff UI of origination: the queue, an application's file and its actions, rule sets.

Thin views: parse a form, call one service, redirect with a message; on a service error
re-render the page with the message on the form (400 for bad input, 409 for an action the
state does not allow). Permissions: manage_applications to work the queue, underwrite_
applications to approve or decline, disburse_loans to disburse, reveal_ssn to see a full
SSN, manage_products for rule sets.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.core.idempotency import idempotent_execute
from lendcore.errors import ApplicationError, NotFound
from origination import rules, selectors, services
from origination.forms import (
    AcceptOfferForm,
    ApproveForm,
    BacktestForm,
    DeclineForm,
    DisburseForm,
    DisbursementAccountForm,
    DocumentReviewForm,
    QueueFilterForm,
    RequestDocumentsForm,
    RuleFormSet,
    RuleSetMetaForm,
    add_service_error,
)
from origination.models import Application, Document, RuleSet

from .common import (
    age_label,
    application_or_404,
    document_or_404,
    document_response,
    error_status,
    has_perm,
    image_data_uri,
    status_steps,
)

PAGE_SIZE = 25
QUEUE_ORDER = ("referred", "in_review", "submitted", "approved", "offer_accepted", "draft")


# --- the queue ---------------------------------------------------------------------------------


class ApplicationQueueView(StaffRequiredMixin, View):
    required_permissions = ("manage_applications",)

    def get(self, request: HttpRequest) -> HttpResponse:
        form = QueueFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        product = filters.get("product")
        applications = selectors.application_list(
            user=request.user,
            status=filters.get("status") or None,
            product_id=product.pk if product else None,
        ).select_related("assigned_officer")
        if filters.get("mine"):
            applications = applications.filter(assigned_officer_id=request.user.pk)
        page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
        now = timezone.now()
        rows = [
            {"application": app, "age": age_label(app.submitted_at or app.created_at, now)}
            for app in page.object_list
        ]
        counts = selectors.application_status_counts()
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "staff/origination/queue.html",
            {
                "form": form,
                "page": page,
                "rows": rows,
                "status_counts": [
                    (value, label, counts.get(value, 0))
                    for value, label in Application.Status.choices
                ],
                "total": sum(counts.values()),
                "current_status": filters.get("status") or "",
                "query": query.urlencode(),
            },
        )


# --- one application -----------------------------------------------------------------------------


def _staff_application(request: HttpRequest, application_id: int) -> Application:
    return application_or_404(request.user, application_id)


def detail_context(request: HttpRequest, application: Application, **overrides: Any) -> dict:
    user = request.user
    decision = selectors.application_latest_decision(application)
    offer = selectors.application_offer(application)
    documents = list(
        selectors.document_list(application=application).select_related(
            "uploaded_by", "reviewed_by"
        )
    )
    uploaded = [d for d in documents if d.doc_type in Document.UPLOAD_TYPES]
    generated = [d for d in documents if d.doc_type not in Document.UPLOAD_TYPES]
    checklist = [
        {**item, "label": Document.DocType(item["doc_type"]).label}
        for item in selectors.application_checklist(application)
    ]
    approvals = list(application.underwriter_actions.select_related("underwriter"))
    events = list(application.events.select_related("actor"))
    audit = list(application.audit_entries.select_related("actor"))
    trace = [
        {**rule, "symbol": rules.OPERATOR_SYMBOLS.get(rule["operator"], rule["operator"])}
        for rule in (decision.rules if decision is not None else [])
    ]
    can_underwrite = has_perm(user, "underwrite_applications")
    can_manage = has_perm(user, "manage_applications")
    context = {
        "application": application,
        "applicant": application.applicant,
        "version": application.product_version,
        "decision": decision,
        "trace": trace,
        "bureau": decision.bureau_report if decision is not None else None,
        "identity": decision.identity_check if decision is not None else None,
        "offer": offer,
        "uploaded": uploaded,
        "generated": generated,
        "checklist": checklist,
        "missing": [c for c in checklist if c["status"] in ("missing", "rejected")],
        "approvals": [a for a in approvals if a.kind == "approve"],
        "underwriter_actions": approvals,
        "events": events,
        "audit": audit,
        "age": age_label(application.submitted_at or application.created_at),
        "steps": status_steps(application),
        "can_underwrite": can_underwrite and application.can_underwrite(),
        "can_disburse": has_perm(user, "disburse_loans") and application.can_disburse(),
        # The borrower accepts in the portal; on their behalf only with `accept_on_behalf`.
        "can_accept": has_perm(user, "accept_on_behalf")
        and application.can_accept_offer()
        and offer is not None,
        "invitation": selectors.applicant_invitation_latest(application.applicant),
        "can_set_account": can_manage and application.status in services.ACCOUNT_OPEN_FOR_STAFF,
        "account_form": DisbursementAccountForm(),
        "can_review": can_manage,
        "can_reveal": has_perm(user, "reveal_ssn"),
        "can_request_documents": can_manage and application.accepts_documents(),
        "approve_form": ApproveForm(),
        "decline_form": DeclineForm(),
        "disburse_form": DisburseForm(),
        "accept_form": AcceptOfferForm(),
        "request_form": RequestDocumentsForm(
            initial={"doc_types": [c["doc_type"] for c in checklist if c["status"] != "accepted"]}
        ),
        "review_errors": {},
        "action_error": "",
        "revealed_ssn": None,
    }
    context.update(overrides)
    return context


def render_detail(request: HttpRequest, application: Application, status: int = 200, **kw):
    return render(
        request,
        "staff/origination/application_detail.html",
        detail_context(request, application, **kw),
        status=status,
    )


class ApplicationDetailView(StaffRequiredMixin, View):
    required_permissions = ("manage_applications",)

    def get(self, request: HttpRequest, application_id: int) -> HttpResponse:
        return render_detail(request, _staff_application(request, application_id))


class ApplicantSsnRevealView(StaffRequiredMixin, View):
    """POST only: the full SSN, through the audited service; never stored in the session."""

    required_permissions = ("manage_applications", "reveal_ssn")

    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _staff_application(request, application_id)
        ssn = services.applicant_ssn_reveal(
            applicant=application.applicant, acting_user=request.user, application=application
        )
        formatted = f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}"
        if request.headers.get("HX-Request") == "true":
            response = render(
                request, "staff/origination/_ssn.html", {"ssn": formatted, "revealed": True}
            )
        else:
            response = render_detail(request, application, revealed_ssn=formatted)
        response["Cache-Control"] = "no-store"
        return response


class _ActionView(StaffRequiredMixin, View):
    """POST a form for one application: valid -> one service -> redirect; else re-render."""

    form_class: type = ApproveForm
    form_name = ""

    def perform(self, request: HttpRequest, application: Application, form) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _staff_application(request, application_id)
        form = self.form_class(request.POST)
        if not form.is_valid():
            return render_detail(request, application, status=400, **{self.form_name: form})
        try:
            message = self.perform(request, application, form)
        except ApplicationError as error:
            add_service_error(form, error)
            status = error_status(error)
            application = _staff_application(request, application_id)
            return render_detail(
                request,
                application,
                status=status,
                action_error=error.message,
                **{self.form_name: form},
            )
        messages.success(request, message)
        return redirect("origination:staff-application", application_id=application.pk)


class ApplicationApproveView(_ActionView):
    required_permissions = ("underwrite_applications",)
    form_class = ApproveForm
    form_name = "approve_form"

    def perform(self, request, application, form) -> str:
        updated = services.application_approve(
            application=application, acting_user=request.user, **form.service_kwargs()
        )
        if updated.status == Application.Status.APPROVED:
            return "Approved. The offer is ready for the borrower."
        return "Your approval is recorded; a second underwriter must approve too (four-eyes)."


class ApplicationDeclineView(_ActionView):
    required_permissions = ("underwrite_applications",)
    form_class = DeclineForm
    form_name = "decline_form"

    def perform(self, request, application, form) -> str:
        services.application_decline(
            application=application,
            acting_user=request.user,
            reasons=form.cleaned_data["parsed_reasons"],
        )
        return "Declined. The adverse-action notice is sent to the applicant."


class ApplicationAcceptOnBehalfView(_ActionView):
    """Only with `accept_on_behalf` (the service answers 409 otherwise); audited."""

    required_permissions = ("manage_applications",)
    form_class = AcceptOfferForm
    form_name = "accept_form"

    def perform(self, request, application, form) -> str:
        services.offer_accept(
            application=application,
            acting_user=request.user,
            signature_name=form.cleaned_data["signature_name"],
            ip_address=request.META.get("REMOTE_ADDR") or None,
        )
        return "Offer accepted on the borrower's behalf (audited)."


class ApplicationRequestDocumentsView(_ActionView):
    required_permissions = ("manage_applications",)
    form_class = RequestDocumentsForm
    form_name = "request_form"

    def perform(self, request, application, form) -> str:
        services.application_documents_request(
            application=application,
            acting_user=request.user,
            doc_types=form.cleaned_data["doc_types"],
            message=form.cleaned_data.get("message") or "",
        )
        return "The borrower is asked for the documents."


class ApplicationDisburseView(StaffRequiredMixin, View):
    """Disburse with a form-carried Idempotency-Key: a double submit disburses once."""

    required_permissions = ("disburse_loans",)

    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _staff_application(request, application_id)
        form = DisburseForm(request.POST)
        if not form.is_valid():
            form = _fresh_key(form)
            return render_detail(request, application, status=400, disburse_form=form)
        data = form.cleaned_data

        def execute() -> tuple[int, Any]:
            updated = services.application_disburse(
                application=application,
                acting_user=request.user,
                method=data["method"],
                reference=data["reference"],
            )
            return 200, {"loan": updated.loan.loan_number if updated.loan else None}

        try:
            result = idempotent_execute(
                scope=f"ui_application_disburse:{application.pk}:user:{request.user.pk}",
                key=str(data["idempotency_key"]),
                user_id=request.user.pk,
                payload={"method": data["method"], "reference": data["reference"]},
                execute=execute,
            )
        except ApplicationError as error:
            add_service_error(form, error)
            return render_detail(
                request,
                application,
                status=error_status(error),
                action_error=error.message,
                disburse_form=_fresh_key(form),
            )
        if result.status >= 400:
            message = result.body.get("message", "The disbursement failed.")
            form.add_error(None, message)
            application = _staff_application(request, application_id)
            return render_detail(
                request,
                application,
                status=result.status,
                action_error=message,
                disburse_form=_fresh_key(form),
            )
        loan = result.body.get("loan")
        if result.replayed:
            messages.info(request, f"Already disbursed: loan {loan}.")
        else:
            messages.success(request, f"Disbursed. Loan {loan} is boarded.")
        return redirect("origination:staff-application", application_id=application.pk)


def _fresh_key(form: DisburseForm) -> DisburseForm:
    """The same form (values and errors) carrying a new key for the corrected retry."""
    data = dict(form.data.items())
    data["idempotency_key"] = str(uuid.uuid4())
    fresh = DisburseForm(data)
    fresh.is_valid()
    for field, errors in form.errors.items():
        for error in errors:
            if error not in fresh.errors.get(field, []):
                fresh.add_error(field if field != "__all__" else None, error)
    return fresh


# --- documents ---------------------------------------------------------------------------------


class DocumentReviewView(StaffRequiredMixin, View):
    required_permissions = ("manage_applications",)

    def post(self, request: HttpRequest, document_id: int) -> HttpResponse:
        document = document_or_404(request.user, document_id)
        application = _staff_application(request, document.application_id)
        form = DocumentReviewForm(request.POST)
        if form.is_valid():
            try:
                services.document_review(
                    document=document,
                    acting_user=request.user,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data.get("reason") or "",
                )
            except ApplicationError as error:
                add_service_error(form, error)
                return render_detail(
                    request,
                    application,
                    status=error_status(error),
                    review_errors={document.pk: form.errors},
                    action_error=error.message,
                )
            verb = "accepted" if form.cleaned_data["status"] == "accepted" else "rejected"
            label = Document.DocType(document.doc_type).label
            messages.success(request, f"{label} {verb}.")
            return redirect("origination:staff-application", application_id=application.pk)
        errors = {document.pk: form.errors}
        return render_detail(request, application, status=400, review_errors=errors)


class DocumentDownloadView(View):
    """Any signed-in user who may see the application (its borrower or staff): attachment."""

    def get(self, request: HttpRequest, document_id: int) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        return document_response(document_or_404(request.user, document_id), viewer=request.user)


class DocumentPreviewView(StaffRequiredMixin, View):
    """An image document inline (a data: URI in a fragment); PDFs are downloaded instead."""

    required_permissions = ("manage_applications",)

    def get(self, request: HttpRequest, document_id: int) -> HttpResponse:
        document = document_or_404(request.user, document_id)
        return render(
            request,
            "staff/origination/_preview.html",
            {"document": document, "data_uri": image_data_uri(document, viewer=request.user)},
        )


# --- rule sets ---------------------------------------------------------------------------------


def _rule_set_or_404(rule_set_id: int) -> RuleSet:
    try:
        return selectors.rule_set_get(rule_set_id=rule_set_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


class RuleSetListView(StaffRequiredMixin, View):
    required_permissions = ("manage_products",)

    def get(self, request: HttpRequest) -> HttpResponse:
        products = list(selectors.product_list())
        rule_sets = list(selectors.rule_set_list())
        by_product = [
            {"product": p, "rule_sets": [rs for rs in rule_sets if rs.product_id == p.pk]}
            for p in products
        ]
        return render(request, "staff/origination/rule_sets.html", {"products": by_product})


class RuleSetEditView(StaffRequiredMixin, View):
    """Edit a rule set's rules; saving makes a new draft version (a version is never edited)."""

    required_permissions = ("manage_products",)
    template = "staff/origination/rule_set_edit.html"

    def get(self, request: HttpRequest, rule_set_id: int) -> HttpResponse:
        rule_set = _rule_set_or_404(rule_set_id)
        initial = [
            {
                "feature": r.feature,
                "operator": r.operator,
                "threshold": r.threshold,
                "outcome": r.outcome,
                "reason_code": r.reason_code,
                "reason_text": r.reason_text,
            }
            for r in rule_set.rules.all()
        ]
        formset = RuleFormSet(initial=initial, prefix="rules")
        meta = RuleSetMetaForm(initial={"name": rule_set.name})
        return self._render(request, rule_set, formset, meta)

    def post(self, request: HttpRequest, rule_set_id: int) -> HttpResponse:
        rule_set = _rule_set_or_404(rule_set_id)
        formset = RuleFormSet(request.POST, prefix="rules")
        meta = RuleSetMetaForm(request.POST)
        if not (formset.is_valid() and meta.is_valid()):
            return self._render(request, rule_set, formset, meta, status=400)
        try:
            draft = services.rule_set_create(
                product=rule_set.product,
                acting_user=request.user,
                rules=cast(Any, formset).rules(),
                name=meta.cleaned_data.get("name") or "",
            )
        except ApplicationError as error:
            add_service_error(meta, error, aliases={"rules": None})
            return self._render(request, rule_set, formset, meta, status=error_status(error))
        messages.success(
            request, f"Saved as draft v{draft.version}. Backtest it before you activate it."
        )
        return redirect("origination:staff-rule-set", rule_set_id=draft.pk)

    def _render(self, request, rule_set, formset, meta, status: int = 200) -> HttpResponse:
        return render(
            request,
            self.template,
            {"rule_set": rule_set, "formset": formset, "meta": meta},
            status=status,
        )


def render_rule_set(request, rule_set, form, result=None, status: int = 200, error=""):
    return render(
        request,
        "staff/origination/rule_set_detail.html",
        {
            "rule_set": rule_set,
            "rules": [
                {"rule": r, "symbol": rules.OPERATOR_SYMBOLS.get(r.operator, r.operator)}
                for r in rule_set.rules.all()
            ],
            "active": selectors.rule_set_active(product_id=rule_set.product_id),
            "form": form,
            "result": result,
            "error": error,
            "outcome_keys": ("approve", "refer", "decline"),
        },
        status=status,
    )


class RuleSetDetailView(StaffRequiredMixin, View):
    """A rule set's rules, its backtest (`?limit=`) with the flips, and the activate button."""

    required_permissions = ("manage_products",)

    def get(self, request: HttpRequest, rule_set_id: int) -> HttpResponse:
        rule_set = _rule_set_or_404(rule_set_id)
        form = BacktestForm(request.GET if "limit" in request.GET else None)
        result, status = None, 200
        if form.is_bound and form.is_valid():
            try:
                result = selectors.rule_set_backtest(
                    rule_set=rule_set, limit=form.cleaned_data["limit"]
                )
            except ApplicationError as error:
                add_service_error(form, error)
                status = error_status(error)
        elif form.is_bound:
            status = 400
        return render_rule_set(request, rule_set, form, result, status)


class RuleSetActivateView(StaffRequiredMixin, View):
    required_permissions = ("manage_products",)

    def post(self, request: HttpRequest, rule_set_id: int) -> HttpResponse:
        rule_set = _rule_set_or_404(rule_set_id)
        try:
            services.rule_set_activate(rule_set=rule_set, acting_user=request.user)
        except ApplicationError as error:
            return render_rule_set(
                request, rule_set, BacktestForm(), status=error_status(error), error=error.message
            )
        messages.success(
            request, f"Rule set v{rule_set.version} is now active for {rule_set.product.code}."
        )
        return redirect("origination:staff-rule-set", rule_set_id=rule_set.pk)


__all__ = [
    "ApplicantSsnRevealView",
    "ApplicationAcceptOnBehalfView",
    "ApplicationApproveView",
    "ApplicationDeclineView",
    "ApplicationDetailView",
    "ApplicationDisburseView",
    "ApplicationQueueView",
    "ApplicationRequestDocumentsView",
    "DocumentDownloadView",
    "DocumentPreviewView",
    "DocumentReviewView",
    "RuleSetActivateView",
    "RuleSetDetailView",
    "RuleSetEditView",
    "RuleSetListView",
]
