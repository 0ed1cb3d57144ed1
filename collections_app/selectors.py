"""Collections' reads, shared by the staff queue page and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet

from lendcore.accounts.models import Borrower
from servicing import selectors as servicing_selectors
from servicing.selectors import business_date_get

from . import config, contact_rules
from .errors import CaseNotFound, CollectionsValidationError
from .filters import CaseFilter
from .models import (
    CaseEvent,
    CollectionCase,
    Contact,
    ContactPreference,
    DunningNotice,
    PromiseToPay,
)

__all__ = [
    "business_date_get",
    "case_contacts",
    "case_events",
    "case_get",
    "case_list",
    "case_notices",
    "case_promises",
    "contact_profile",
    "contact_status",
    "open_case_products",
    "recent_calls",
]


def case_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[CollectionCase]:
    """Cases narrowed by `filters` (`filters.CaseFilter`), highest priority first, with the
    loan, its borrower and the assignee joined (one query per page). Bad filters: 400."""
    filterset = CaseFilter(filters or {}, queryset=CollectionCase.objects.all(), user=user)
    if not filterset.is_valid():
        raise CollectionsValidationError.for_fields(
            {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        )
    # The page's cases are sorted alone (a bounded top-N sort: no index holds priority, see
    # `models.CollectionCase`), then their loans, borrowers and assignees are read by key in
    # two more queries; with the joins in the same query the sort was of every matching case.
    # Only the columns the list shows: a loan row is wide (its terms snapshot).
    case_fields = [f.name for f in CollectionCase._meta.concrete_fields]
    loans = (
        apps.get_model("servicing", "Loan")
        .objects.select_related("borrower")
        .only(*LIST_LOAN_FIELDS)
    )
    return (
        filterset.qs.only(*case_fields)
        .prefetch_related(
            Prefetch("loan", queryset=loans),
            Prefetch("assignee", queryset=get_user_model().objects.only("username")),
        )
        .order_by("-priority", "pk")
    )


def open_case_products() -> list[tuple[str, str]]:
    """The queue filter's products, as (code, name): the book's (a product without a late
    loan finds no case). Not a DISTINCT over the open cases' loans, which reads them all."""
    return servicing_selectors.loan_products()


# What the queue page and the API's list read of a case's loan and its borrower.
LIST_LOAN_FIELDS = (
    "loan_number",
    "product_code",
    "product_name",
    "borrower",
    "borrower__first_name",
    "borrower__last_name",
)


def case_get(*, case_id: int) -> CollectionCase:
    case = (
        CollectionCase.objects.select_related("loan", "loan__borrower", "assignee")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise CaseNotFound(f"No case {case_id}.")
    return case


def case_events(case: CollectionCase) -> list[CaseEvent]:
    return list(case.events.select_related("actor").order_by("at", "pk"))


def today() -> date:
    return business_date_get()


@dataclass(frozen=True)
class ContactProfile:
    """How a borrower may be reached: their preferences (or the defaults) and addresses."""

    borrower_id: int
    time_zone: str
    call_opt_out: bool
    email_opt_out: bool
    sms_opt_out: bool
    letter_opt_out: bool
    cease_communication: bool
    cease_communication_on: date | None
    email: str
    phone: str
    saved: bool  # the borrower has set preferences

    def opted_out(self, channel: str) -> bool:
        return bool(getattr(self, f"{channel}_opt_out", False))


def contact_profile(*, borrower_id: int) -> ContactProfile:
    borrower = Borrower.objects.get(pk=borrower_id)
    pref = ContactPreference.objects.filter(borrower_id=borrower_id).first()
    return ContactProfile(
        borrower_id=borrower_id,
        time_zone=pref.time_zone if pref else config.default_time_zone(),
        call_opt_out=bool(pref and pref.call_opt_out),
        email_opt_out=borrower.email_opt_out,
        sms_opt_out=borrower.sms_opt_out,
        letter_opt_out=bool(pref and pref.letter_opt_out),
        cease_communication=bool(pref and pref.cease_communication),
        cease_communication_on=pref.cease_communication_on if pref else None,
        email=borrower.email,
        phone=borrower.phone,
        saved=pref is not None,
    )


def recent_calls(*, loan_id: int, up_to: datetime) -> list[datetime]:
    """The loan's outbound calls (any case) in the 7 days up to `up_to` (Regulation F cap)."""
    return list(
        Contact.objects.filter(
            loan_id=loan_id,
            channel=Contact.Channel.CALL,
            direction=Contact.Direction.OUTBOUND,
            at__gt=up_to - contact_rules.CAP_PERIOD,
            at__lte=up_to,
        )
        .order_by("at")
        .values_list("at", flat=True)
    )


def case_contacts(case: CollectionCase) -> QuerySet[Contact]:
    """The contacts of the case's loan (every case of it), newest first."""
    return (
        Contact.objects.filter(loan_id=case.loan_id).select_related("actor").order_by("-at", "-pk")
    )


def case_promises(case: CollectionCase) -> QuerySet[PromiseToPay]:
    return (
        PromiseToPay.objects.filter(loan_id=case.loan_id)
        .select_related("actor")
        .order_by("-promised_on", "promise_key", "sequence", "pk")
    )


def case_notices(case: CollectionCase) -> QuerySet[DunningNotice]:
    return (
        DunningNotice.objects.filter(loan_id=case.loan_id)
        .select_related("rule")
        .order_by("-business_date", "-pk")
    )


OPT_OUT_LABELS = (("call", "calls"), ("email", "e-mail"), ("sms", "SMS"), ("letter", "letters"))


@dataclass(frozen=True)
class ContactStatus:
    """What the case page tells a collector before they try: the borrower's clock, the
    calls used, and whether (and why not) a call may be made now. Times are formatted in
    the borrower's zone here (a template would show an aware time in the server's)."""

    time_zone: str
    local_now: str  # "YYYY-MM-DD HH:MM", the borrower's time
    in_window: bool  # 08:00-21:00 their time
    calls_7d: int
    call_cap: int
    next_call_from: str  # the borrower's time the cap frees a call; "" below the cap
    call_refusal: str  # why a call now is refused (contact_rules' sentence); "" = allowed
    opt_outs: tuple[str, ...]  # the channels the borrower opted out of, as words

    @property
    def call_allowed(self) -> bool:
        return not self.call_refusal


def contact_status(*, loan_id: int, profile: ContactProfile, now: datetime) -> ContactStatus:
    """The Regulation F position of a loan at `now`, asked of contact_rules (the one place
    the rules are written) exactly as the contact service will ask it."""
    calls = recent_calls(loan_id=loan_id, up_to=now)
    refusal = contact_rules.outbound_refusal(
        channel="call",
        at=now,
        time_zone=profile.time_zone,
        recent_calls=calls,
        cease_communication=profile.cease_communication,
        opted_out=profile.call_opt_out,
    )
    freed = contact_rules.next_call_from(now, calls)
    return ContactStatus(
        time_zone=profile.time_zone,
        local_now=f"{contact_rules.local_time(now, profile.time_zone):%Y-%m-%d %H:%M}",
        in_window=contact_rules.in_window(now, profile.time_zone),
        calls_7d=len(calls),
        call_cap=contact_rules.CALL_CAP,
        next_call_from=(
            f"{contact_rules.local_time(freed, profile.time_zone):%Y-%m-%d %H:%M}" if freed else ""
        ),
        call_refusal=refusal.message if refusal else "",
        opt_outs=tuple(label for channel, label in OPT_OUT_LABELS if profile.opted_out(channel)),
    )


def collections_figures(*, since: date) -> dict[str, Any]:
    """The dashboard's collections figures since the business date `since`: promises settled
    (kept over kept and broken, in percent) and cases ended (cured over every case closed, in
    percent: a case also ends when its loan is paid off or charged off)."""
    promises = PromiseToPay.objects.filter(settled_on__gte=since).aggregate(
        kept=Count("id", filter=Q(status=PromiseToPay.Status.KEPT)),
        broken=Count("id", filter=Q(status=PromiseToPay.Status.BROKEN)),
    )
    cases = CollectionCase.objects.filter(closed_on__gte=since).aggregate(
        cured=Count("id", filter=Q(status=CollectionCase.Status.CURED)),
        ended=Count("id"),
    )
    settled = promises["kept"] + promises["broken"]
    return {
        **promises,
        **cases,
        "promise_kept_rate": _percent(promises["kept"], settled),
        "cure_rate": _percent(cases["cured"], cases["ended"]),
    }


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part * 100) / whole).quantize(Decimal("0.01")) if whole else None
