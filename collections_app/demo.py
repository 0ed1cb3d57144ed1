"""Demo data for collections: the work of the demo collector and manager on servicing's demo
book (`servicing.demo`), through the real collections services. Idempotent.

The cases themselves are opened, followed and assigned by close of business while
servicing's demo walks the business date to today; this module acts on that history through
`on_demo_day`, called on each day of the walk before the day is closed:

- calls (inside the Regulation F window, in the borrower's time zone) and an e-mail;
- promises to pay: one kept (a phone payment before its date), one broken (nothing paid),
  one still pending today;
- a hardship plan requested by the collector and approved by the collections manager
  (four-eyes): the loan cures and is flagged `in_hardship` while the plan runs;
- the loan past 120 days past due is a charge-off candidate (close of business lists it),
  left for the collector to recommend and the manager to approve (four-eyes) in the demo.

`seed_demo` (after servicing's) only reports what is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from .models import (
    CollectionCase,
    Contact,
    HardshipPlan,
    PromiseToPay,
)
from .selectors import contact_profile
from .services.contacts import contact_log
from .services.payments import phone_payment_take
from .services.promises import promise_record
from .services.workouts import hardship_plan_decide, hardship_plan_request
from .workouts_selectors import charge_off_candidates

# After servicing's (10: the business date, the loans and their history), before origination's.
DEMO_ORDER = 15

# servicing.demo's loans worked here (by the bucket they are in today)
LOAN_120 = "DEMO-LOAN-3"  # never paid: the charge-off candidate
LOAN_90 = "DEMO-LOAN-6"
LOAN_60 = "DEMO-LOAN-7"  # the broken promise
LOAN_30 = "DEMO-LOAN-8"  # the kept promise
LOAN_1 = "DEMO-LOAN-9"  # the pending promise
LOAN_HARDSHIP = "DEMO-LOAN-10"


@dataclass(frozen=True)
class _Work:
    days_ago: int  # the business date it happens: today - days_ago
    loan: str
    act: Callable[[CollectionCase, date, date, dict], str]


def _at(case: CollectionCase, day: date, clock: time) -> datetime:
    """`clock` on `day` in the borrower's time zone (calls are held to 08:00-21:00 there)."""
    zone = contact_profile(borrower_id=case.loan.borrower_id).time_zone
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone))


def _call(outcome: str, notes: str, clock: time = time(10, 30)):
    def act(case: CollectionCase, day: date, today: date, users: dict) -> str:
        contact_log(
            case=case,
            channel=Contact.Channel.CALL,
            direction=Contact.Direction.OUTBOUND,
            outcome=outcome,
            notes=notes,
            at=_at(case, day, clock),
            acting_user=users["collector"],
            on=day,
        )
        return f"call ({outcome})"

    return act


def _email(case: CollectionCase, day: date, today: date, users: dict) -> str:
    contact_log(
        case=case,
        channel=Contact.Channel.EMAIL,
        direction=Contact.Direction.OUTBOUND,
        outcome=Contact.Outcome.LEFT_MESSAGE,
        notes="Sent the amount to cure and asked the borrower to call back.",
        at=_at(case, day, time(9, 15)),
        acting_user=users["collector"],
        on=day,
    )
    return "e-mail"


def _promise(amount: str, due_in_days: int):
    def act(case: CollectionCase, day: date, today: date, users: dict) -> str:
        contact = contact_log(
            case=case,
            channel=Contact.Channel.CALL,
            direction=Contact.Direction.OUTBOUND,
            outcome=Contact.Outcome.PROMISE_TO_PAY,
            notes=f"Borrower promised {amount} within {due_in_days} days.",
            at=_at(case, day, time(11, 0)),
            acting_user=users["collector"],
            on=day,
        )
        promise_record(
            case=case,
            instalments=[(Decimal(amount), day + timedelta(days=due_in_days))],
            contact=contact,
            acting_user=users["collector"],
            on=day,
        )
        return f"promise to pay {amount} by {(day + timedelta(days=due_in_days)).isoformat()}"

    return act


def _phone_payment(amount: str):
    def act(case: CollectionCase, day: date, today: date, users: dict) -> str:
        phone_payment_take(
            case=case,
            amount=Decimal(amount),
            method="debit_card",
            reference=f"DEMO-PHONE-{case.loan.application_ref}-{day.isoformat()}",
            acting_user=users["collector"],
            on=day,
        )
        return f"payment of {amount} taken by phone"

    return act


def _hardship_request(case: CollectionCase, day: date, today: date, users: dict) -> str:
    contact_log(
        case=case,
        channel=Contact.Channel.CALL,
        direction=Contact.Direction.INBOUND,
        outcome=Contact.Outcome.HARDSHIP_REQUEST,
        notes="Reduced hours at work; asks for lower payments for a few months.",
        at=_at(case, day, time(14, 0)),
        acting_user=users["collector"],
        on=day,
    )
    hardship_plan_request(
        loan=case.loan,
        kind=HardshipPlan.Kind.PAYMENT_REDUCTION,
        months=3,
        reason="Demo: reduced hours at work for three months.",
        acting_user=users["collector"],
    )
    return "hardship plan requested by the collector"


def _hardship_approve(case: CollectionCase, day: date, today: date, users: dict) -> str:
    plan = HardshipPlan.objects.get(loan_id=case.loan_id, status=HardshipPlan.Status.REQUESTED)
    hardship_plan_decide(
        plan=plan,
        approve=True,
        reason="Demo: income verified.",
        acting_user=users["collections_manager"],
    )
    return "hardship plan approved by the collections manager"


# The collectors' days, relative to today.
WORK = (
    _Work(22, LOAN_90, _call(Contact.Outcome.NO_ANSWER, "No answer.")),
    _Work(21, LOAN_90, _call(Contact.Outcome.LEFT_MESSAGE, "Left a voicemail.", time(17, 45))),
    _Work(20, LOAN_30, _promise("50.00", 4)),
    _Work(17, LOAN_30, _phone_payment("50.00")),  # the promise is kept
    _Work(14, LOAN_60, _promise("75.00", 4)),  # nothing paid: the promise is broken
    _Work(9, LOAN_120, _email),
    _Work(6, LOAN_HARDSHIP, _hardship_request),
    _Work(5, LOAN_HARDSHIP, _hardship_approve),
    _Work(2, LOAN_1, _promise("100.00", 7)),  # still pending today
)


def on_demo_day(*, day: date, today: date) -> list[str]:
    """The demo collector's and manager's work due on business date `day` of the walk."""
    todo = [work for work in WORK if today - timedelta(days=work.days_ago) == day]
    if not todo:
        return []
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["collector", "collections_manager"])
    }
    if len(users) < 2:
        return []
    lines = []
    for work in todo:
        case = (
            CollectionCase.objects.select_related("loan")
            .filter(loan__application_ref=work.loan, status=CollectionCase.Status.OPEN)
            .first()
        )
        if case is None:
            lines.append(f"Collections demo: {work.loan} has no open case on {day}; skipped.")
            continue
        done = work.act(case, day, today, users)
        lines.append(f"Collections demo {day.isoformat()}: {case.loan.loan_number}: {done}")
    return lines


def seed_demo() -> list[str]:
    """Nothing to create (the work happened on its days); what the queue holds now."""
    open_cases = CollectionCase.objects.filter(status=CollectionCase.Status.OPEN)
    if not open_cases.exists():
        return []
    promises = {
        status: PromiseToPay.objects.filter(status=status).count()
        for status in PromiseToPay.Status.values
    }
    return [
        f"Collections: {open_cases.count()} open cases "
        f"({open_cases.filter(assignee__isnull=False).count()} assigned), "
        f"{Contact.objects.count()} contacts, promises "
        + ", ".join(f"{n} {status}" for status, n in promises.items())
        + f", {HardshipPlan.objects.filter(status=HardshipPlan.Status.ACTIVE).count()} "
        "hardship plan running, "
        f"{charge_off_candidates().count()} charge-off candidate"
    ]
