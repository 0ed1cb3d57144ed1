"""The staff collections queue: open cases by priority, filtered by bucket and assignee,
paginated; a collections manager reassigns a case from it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from lendcore.accounts.permissions import StaffRequiredMixin
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_can
from lendcore.errors import ApplicationError

from . import config, selectors
from .forms import CaseAssignForm, QueueFilterForm
from .models import CollectionCase
from .services.assignment import case_assign, collectors_active


def _collector_choices() -> list[tuple[int, str]]:
    ids = collectors_active()
    users = get_user_model().objects.filter(pk__in=ids).order_by("username")
    return [(user.pk, user.get_username()) for user in users]


def _buckets() -> list[str]:
    return list(
        CollectionCase.objects.filter(status=CollectionCase.Status.OPEN)
        .order_by("bucket")
        .values_list("bucket", flat=True)
        .distinct()
    )


def queue_context(request: HttpRequest, *, assign_form: CaseAssignForm | None = None) -> dict:
    """The queue page's context: the same filters, with the same meaning, as the API's."""
    form = QueueFilterForm(request.GET or None, buckets=_buckets())
    filters: dict[str, Any] = {"status": CollectionCase.Status.OPEN}
    if form.is_bound and form.is_valid():
        filters |= {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    qs = selectors.case_list(user=request.user, filters=filters)
    page = Paginator(qs, config.queue_page_size()).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    manager = user_can(request.user, Action.MANAGE_COLLECTIONS)
    return {
        "form": form,
        "page": page,
        "cases": list(page.object_list),
        "query": query.urlencode(),
        "manager": manager,
        "collectors": _collector_choices() if manager else [],
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
