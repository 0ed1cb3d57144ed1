"""The staff collections queue (open cases by priority, filtered by bucket and assignee,
paginated; a collections manager reassigns a case from it), the case page where a collector
works one case, and the borrower's contact preferences in the portal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import borrower_for_user, user_can
from lendcore.core.idempotency import IdempotentResponse, idempotent_execute
from lendcore.core.keyset import keyset_page
from lendcore.errors import ApplicationError
from servicing import selectors as servicing_selectors

from . import config, contact_rules, selectors
from .forms import (
    PROMISE_ROWS,
    CaseAssignForm,
    ContactForm,
    ContactPreferencesForm,
    DisputeForm,
    FollowUpForm,
    IdempotentForm,
    PhonePaymentForm,
    PromiseForm,
    QueueFilterForm,
)
from .models import CollectionCase
from .services.assignment import case_assign, collectors_active
from .services.contacts import contact_log, dispute_mark, dispute_resolve, follow_up_schedule
from .services.payments import phone_payment_take
from .services.preferences import contact_preferences_set
from .services.promises import promise_record
from .workouts_views import case_panels_context


def _collector_choices() -> list[tuple[int, str]]:
    ids = collectors_active()
    users = get_user_model().objects.filter(pk__in=ids).order_by("username")
    return [(user.pk, user.get_username()) for user in users]


def _buckets() -> list[str]:
    """The bucket filter's choices: the configured buckets past due (no query: a DISTINCT
    over the open cases reads every one of them)."""
    return servicing_selectors.delinquency_bucket_codes()


def queue_context(request: HttpRequest, *, assign_form: CaseAssignForm | None = None) -> dict:
    """The queue page's context: the same filters, with the same meaning, as the API's, and
    the same keyset pages (`cursor`: the page after or before a case; the count of the
    matching cases on the first page only)."""
    collectors = _collector_choices()
    form = QueueFilterForm(
        request.GET or None,
        buckets=_buckets(),
        products=selectors.open_case_products(),
        collectors=collectors,
    )
    filters: dict[str, Any] = {"status": CollectionCase.Status.OPEN}
    if form.is_bound and form.is_valid():
        filters |= {
            k: v for k, v in form.cleaned_data.items() if k != "cursor" and v not in (None, "")
        }
    qs = selectors.case_list(user=request.user, filters=filters)
    cursor = form.cleaned_data.get("cursor") if form.is_bound and form.is_valid() else None
    page = keyset_page(qs, field="priority", size=config.queue_page_size(), cursor=cursor)
    query = request.GET.copy()
    query.pop("cursor", None)
    manager = user_can(request.user, Action.MANAGE_COLLECTIONS)
    return {
        "form": form,
        "page": page,
        "cases": page.items,
        "query": query.urlencode(),
        "manager": manager,
        "collectors": collectors if manager else [],
        "assign_form": assign_form,
        "business_date": selectors.today(),
    }


class CollectionsQueueView(StaffRequiredMixin, View):
    required_permissions = (Action.WORK_COLLECTIONS,)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "staff/collections/queue.html", queue_context(request))


class CaseAssignView(StaffRequiredMixin, View):
    """POST: a manager gives an open case to a collector (400 bad choice, 409 closed case)."""

    required_permissions = (Action.MANAGE_COLLECTIONS,)

    def post(self, request: HttpRequest, case_id: int) -> HttpResponse:
        try:
            case = selectors.case_get(case_id=case_id)
        except ApplicationError as error:
            raise Http404(error.message) from error
        form = CaseAssignForm(request.POST, collectors=_collector_choices())
        status = 400
        if form.is_valid():
            try:
                case_assign(
                    case=case,
                    assignee_id=form.cleaned_data["assignee"],
                    acting_user=request.user,
                    on=selectors.today(),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
                status = error.http_status
            else:
                messages.success(request, f"Case {case.pk} ({case.loan.loan_number}) reassigned.")
                return redirect("web:staff-collections")
        context = queue_context(request, assign_form=form) | {"assign_case": case}
        return render(request, "staff/collections/queue.html", context, status=status)


# --------------------------------------------------------------------------- the case page


def _case_or_404(case_id: int) -> CollectionCase:
    try:
        return selectors.case_get(case_id=case_id)
    except ApplicationError as error:
        raise Http404(error.message) from error


def case_context(request: HttpRequest, case: CollectionCase, **bound: IdempotentForm) -> dict:
    """Everything the collector needs on one page; `bound` replaces a blank form (one drawn
    again with its errors)."""
    on = selectors.today()
    now = timezone.now()
    profile = selectors.contact_profile(borrower_id=case.loan.borrower_id)
    forms = {
        "contact": ContactForm(prefix="contact"),
        "follow_up": FollowUpForm(prefix="follow_up"),
        "promise": PromiseForm(prefix="promise"),
        "payment": PhonePaymentForm(prefix="payment"),
        "dispute": DisputeForm(prefix="dispute"),
    } | bound
    return case_panels_context(request, case) | {
        "case": case,
        "loan": case.loan,
        "business_date": on,
        "balances": servicing_selectors.loan_balances(case.loan, on=on),
        "profile": profile,
        # what a collector may do now, and why not (Regulation F), before they try
        "contact_status": selectors.contact_status(loan_id=case.loan_id, profile=profile, now=now),
        # formatted here: a template would show an aware time in the server's zone
        "follow_up_local": (
            f"{contact_rules.local_time(case.follow_up_at, profile.time_zone):%Y-%m-%d %H:%M}"
            if case.follow_up_at
            else ""
        ),
        "payments": list(servicing_selectors.loan_payments(loan=case.loan).order_by("-pk")[:20]),
        "contacts": list(selectors.case_contacts(case)[:50]),
        "promises": list(selectors.case_promises(case)[:50]),
        "notices": list(selectors.case_notices(case)[:50]),
        "events": list(reversed(selectors.case_events(case)))[:100],
        "forms": forms,
        "can_take_payment": user_can(request.user, Action.POST_PAYMENT),
        "promise_rows": [
            (forms["promise"][f"amount_{row}"], forms["promise"][f"due_date_{row}"])
            for row in range(1, PROMISE_ROWS + 1)
        ],
    }


class CaseDetailView(StaffRequiredMixin, View):
    required_permissions = (Action.WORK_COLLECTIONS,)

    def get(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = _case_or_404(case_id)
        return render(request, "staff/collections/case.html", case_context(request, case))


class CaseActionView(StaffRequiredMixin, View):
    """POST one of the case page's forms: run it once (its idempotency key), then back to
    the case with a message, or the page again with the form's errors (400, 403, 409)."""

    required_permissions = (Action.WORK_COLLECTIONS,)
    form_class: type[IdempotentForm]
    name: str  # the form's key (and prefix) on the page
    done: str  # the message after success

    def perform(self, request: HttpRequest, case: CollectionCase, form) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = _case_or_404(case_id)
        form = self.form_class(request.POST, prefix=self.name)
        status = 400
        if form.is_valid():
            user_id = request.user.pk
            try:
                result = idempotent_execute(
                    scope=f"ui:collections.{self.name}:{case.pk}:user:{user_id}",
                    key=str(form.cleaned_data["idempotency_key"]),
                    user_id=user_id,
                    payload=form.payload(),
                    execute=lambda: (200, self.perform(request, case, form)),
                )
            except ApplicationError as error:  # a reused key, say
                body = {"message": error.message, "code": error.code, "extra": error.extra}
                result = IdempotentResponse(status=error.http_status, body=body, replayed=False)
            if result.status < 400:
                messages.success(request, self.done)
                return redirect("collections:staff-case", case_id=case.pk)
            form.add_service_error(result.body)
            form.renew_key()
            status = result.status
        case = _case_or_404(case_id)
        context = case_context(request, case, **{self.name: form})
        return render(request, "staff/collections/case.html", context, status=status)


class CaseContactView(CaseActionView):
    form_class = ContactForm
    name = "contact"
    done = "Contact logged."

    def perform(self, request, case, form) -> dict[str, Any]:
        tz = selectors.contact_profile(borrower_id=case.loan.borrower_id).time_zone
        contact = contact_log(
            case=case,
            channel=form.cleaned_data["channel"],
            direction=form.cleaned_data["direction"],
            outcome=form.cleaned_data["outcome"],
            notes=form.cleaned_data["notes"],
            at=form.at_aware(tz),
            acting_user=request.user,
            on=selectors.today(),
        )
        return {"contact": contact.pk}


class CaseFollowUpView(CaseActionView):
    form_class = FollowUpForm
    name = "follow_up"
    done = "Follow-up scheduled."

    def perform(self, request, case, form) -> dict[str, Any]:
        tz = selectors.contact_profile(borrower_id=case.loan.borrower_id).time_zone
        follow_up_schedule(
            case=case,
            at=form.at_aware(tz),
            channel=form.cleaned_data["channel"],
            note=form.cleaned_data["note"],
            acting_user=request.user,
            on=selectors.today(),
        )
        return {"case": case.pk}


class CasePromiseView(CaseActionView):
    form_class = PromiseForm
    name = "promise"
    done = "Promise to pay recorded."

    def perform(self, request, case, form) -> dict[str, Any]:
        promises = promise_record(
            case=case,
            instalments=form.instalments(),
            acting_user=request.user,
            on=selectors.today(),
        )
        return {"promises": [p.pk for p in promises]}


class CasePaymentView(CaseActionView):
    form_class = PhonePaymentForm
    name = "payment"
    done = "Payment posted."

    def perform(self, request, case, form) -> dict[str, Any]:
        payment = phone_payment_take(
            case=case,
            amount=form.cleaned_data["amount"],
            method=form.cleaned_data["method"],
            reference=form.cleaned_data["reference"],
            acting_user=request.user,
            on=selectors.today(),
        )
        return {"payment": payment.pk}


class CaseDisputeView(CaseActionView):
    form_class = DisputeForm
    name = "dispute"
    done = "Dispute recorded: dunning is paused until it is resolved."

    def perform(self, request, case, form) -> dict[str, Any]:
        dispute_mark(
            case=case,
            note=form.cleaned_data["note"],
            acting_user=request.user,
            on=selectors.today(),
        )
        return {"case": case.pk}


class CaseDisputeResolveView(CaseDisputeView):
    done = "Dispute resolved: dunning resumes at the next close of business."

    def perform(self, request, case, form) -> dict[str, Any]:
        dispute_resolve(
            case=case,
            note=form.cleaned_data["note"],
            acting_user=request.user,
            on=selectors.today(),
        )
        return {"case": case.pk}


# --------------------------------------------------------------------------- the portal


class ContactPreferencesView(LoginRequiredMixin, View):
    """The borrower's contact preferences: time zone, opt-outs, cease-communication."""

    def _borrower(self, request: HttpRequest):
        borrower = borrower_for_user(request.user)
        if borrower is None:  # a staff account: the portal is for borrowers
            raise PermissionDenied("The portal is for borrowers.")
        return borrower

    def _render(self, request, form, status: int = 200) -> HttpResponse:
        return render(request, "portal/contact_preferences.html", {"form": form}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        borrower = self._borrower(request)
        profile = selectors.contact_profile(borrower_id=borrower.pk)
        initial = {
            "time_zone": profile.time_zone,
            "call_opt_out": profile.call_opt_out,
            "email_opt_out": profile.email_opt_out,
            "sms_opt_out": profile.sms_opt_out,
            "letter_opt_out": profile.letter_opt_out,
            "cease_communication": profile.cease_communication,
        }
        return self._render(request, ContactPreferencesForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        borrower = self._borrower(request)
        form = ContactPreferencesForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            contact_preferences_set(
                borrower=borrower, acting_user=request.user, **form.cleaned_data
            )
        except ApplicationError as error:
            fields = (error.extra or {}).get("fields") or {}
            for name, texts in fields.items():
                for text in texts:
                    form.add_error(name if name in form.fields else None, text)
            if not fields:
                form.add_error(None, error.message)
            return self._render(request, form, status=error.http_status)
        messages.success(request, "Your contact preferences are saved.")
        return redirect("collections:portal-contact-preferences")
