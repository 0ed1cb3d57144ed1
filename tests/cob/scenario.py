"""The hand-built book of the COB acceptance: one loan per condition, closed on 2026-06-15.

Every loan is a 12-month 1,200.00 daily-simple loan at 12 % ACT/365F (late fee 15.00 after
10 grace days, NSF fee 25.00) boarded through the real `loan_board`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from servicing.autopay import autopay_enrol
from servicing.models import (
    ChargeOffCandidate,
    DelinquencyHistory,
    Fee,
    Installment,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Notification,
    Payment,
    RailTransfer,
    Statement,
)
from servicing.services import (
    business_date_set,
    charge_off_decide,
    charge_off_request,
    payment_post,
)
from tests.servicing.factories import board_loan

D = date(2026, 6, 15)


@dataclass
class Book:
    loans: dict[str, Loan]


def _board(borrower, name: str, disbursed: date) -> Loan:
    return board_loan(borrower=borrower, application_ref=f"COB-{name}", disbursed_on=disbursed)


def _pay_installment(loan: Loan, number: int, on: date) -> None:
    inst = Installment.objects.get(loan=loan, number=number, schedule__is_current=True)
    business_date_set(business_date=on, acting_user=None)
    payment_post(
        loan=loan, amount=inst.remaining, effective_date=on, method="ach", acting_user=None
    )


def build_book(borrower, staff_a, staff_b) -> Book:
    """Boards the loans (walking the business date through their history), ends on D."""
    loans: dict[str, Loan] = {}
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    loans["dpd121"] = _board(borrower, "dpd121", date(2026, 1, 14))  # first due 02-14
    loans["charged_off"] = _board(borrower, "charged_off", date(2026, 1, 14))
    business_date_set(business_date=date(2026, 2, 16), acting_user=None)
    loans["dpd91"] = _board(borrower, "dpd91", date(2026, 2, 16))  # first due 03-16
    business_date_set(business_date=date(2026, 3, 15), acting_user=None)
    loans["dpd61"] = _board(borrower, "dpd61", date(2026, 3, 15))  # first due 04-15
    business_date_set(business_date=date(2026, 4, 15), acting_user=None)
    loans["dpd31"] = _board(borrower, "dpd31", date(2026, 4, 15))  # first due 05-15
    loans["on_time"] = _board(borrower, "on_time", date(2026, 4, 15))
    loans["paid_off"] = _board(borrower, "paid_off", date(2026, 4, 15))
    loans["one_day_late"] = _board(borrower, "one_day_late", date(2026, 4, 14))  # 05-14
    business_date_set(business_date=date(2026, 5, 4), acting_user=None)
    loans["past_grace"] = _board(borrower, "past_grace", date(2026, 5, 4))  # first due 06-04
    business_date_set(business_date=date(2026, 5, 15), acting_user=None)
    loans["autopay_ok"] = _board(borrower, "autopay_ok", date(2026, 5, 15))  # first due 06-15
    loans["autopay_nsf"] = _board(borrower, "autopay_nsf", date(2026, 5, 15))
    autopay_enrol(loan=loans["autopay_ok"], account_number="123456789", routing_number="021000021")
    autopay_enrol(loan=loans["autopay_nsf"], account_number="5550001", routing_number="021000021")
    # on time: the first installment paid on its date; one day late: paid, then missed 06-14
    _pay_installment(loans["one_day_late"], 1, date(2026, 5, 14))
    _pay_installment(loans["on_time"], 1, date(2026, 5, 15))
    business_date_set(business_date=date(2026, 5, 20), acting_user=None)
    paid = Loan.objects.get(pk=loans["paid_off"].pk)
    payment_post(
        loan=paid,
        amount=paid.principal_balance + paid.interest_balance + Decimal("20.00"),
        effective_date=date(2026, 5, 20),
        method="ach",
        acting_user=None,
        allow_credit=True,
    )
    business_date_set(business_date=date(2026, 6, 1), acting_user=None)
    charge_off_request(loan=loans["charged_off"], reason="Deceased", acting_user=staff_a)
    charge_off_decide(loan=loans["charged_off"], approve=True, reason="ok", acting_user=staff_b)
    business_date_set(business_date=D, acting_user=None)
    for name, loan in loans.items():
        loans[name] = Loan.objects.get(pk=loan.pk)
    return Book(loans=loans)


COUNTED = (
    Loan,
    Installment,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    Fee,
    Payment,
    RailTransfer,
    Notification,
    DelinquencyHistory,
    ChargeOffCandidate,
    LoanEvent,
    Statement,
)


def snapshot() -> dict:
    """Row counts and the loans' state: equal snapshots = nothing changed."""
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    loans = list(
        Loan.objects.order_by("pk").values_list(
            "pk",
            "status",
            "principal_balance",
            "interest_balance",
            "fees_balance",
            "accrued_interest_exact",
            "last_accrual_date",
            "last_closed_on",
            "dpd",
            "delinquency_bucket",
            "non_accrual",
        )
    )
    statuses = dict(
        Installment.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {"counts": counts, "loans": loans, "statuses": statuses, "vendor": connection.vendor}


def next_day(day: date) -> date:
    return day + timedelta(days=1)
