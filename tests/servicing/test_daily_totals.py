"""Daily ledger and payment totals (servicing/daily_totals.py) and the ledger reports that read
them (servicing/reports.py): over a scripted book closed day by day (payments, a backdated
payment, a reversal with its NSF fee, late fees, a charge-off and a recovery, a payment on
the open business date), every report read from the totals equals the same report read
from the journal lines and payments alone, and equals plain sums of the lines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Sum

from lendcore.core.reports import ReportFilters, report_get
from lendcore.finance.money import round_money
from servicing.cob.runner import cob_close_through
from servicing.daily_totals import daily_totals_write
from servicing.models import (
    CobRun,
    DailyTotalsDay,
    JournalEntry,
    JournalLine,
    LedgerDayTotal,
    Payment,
    PaymentDayTotal,
)
from servicing.services import (
    charge_off_decide,
    charge_off_request,
    payment_post,
    payment_reverse,
)

from .factories import LoanFactory

PAYMENT = Decimal("106.62")
OPEN_DAY = date(2026, 3, 6)  # the business date at the end: not closed
LEDGER_REPORTS = ("trial_balance", "journal", "payments", "disbursements", "income")
WINDOWS = (
    (date(2026, 1, 1), date(2026, 1, 31)),
    (date(2026, 2, 5), date(2026, 2, 5)),  # the day of the reversal
    (date(2026, 2, 1), OPEN_DAY),
    (date(2026, 2, 20), OPEN_DAY),
    (OPEN_DAY, OPEN_DAY),
    (OPEN_DAY - timedelta(days=365), OPEN_DAY),
)


@pytest.fixture
def book(borrower, business_date, servicing_agent, admin_user):
    """Three 1,200.00 loans disbursed 2026-01-01 (`paid` and `late` PERSONAL, `auto` AUTO):
    `paid` pays on 2026-01-31 and again on 2026-02-21 (backdated to 2026-02-15) and on the
    open business date; `auto` pays on 2026-01-31, reversed (NSF) on 2026-02-05 after that
    day closed; `late` never pays (late fees), is charged off on 2026-03-02 and recovers
    50.00 the same day. Closed through 2026-03-05."""
    paid = LoanFactory(borrower=borrower, application_ref="APP-PAID")
    late = LoanFactory(borrower=borrower, application_ref="APP-LATE")
    auto = LoanFactory(borrower=borrower, application_ref="APP-AUTO", product_code="AUTO")
    cob_close_through(through=date(2026, 1, 30))
    payment_post(loan=paid, amount=PAYMENT, method="ach", acting_user=servicing_agent)
    bounced = payment_post(loan=auto, amount=PAYMENT, method="cash", acting_user=servicing_agent)
    cob_close_through(through=date(2026, 2, 4))
    payment_reverse(payment=bounced, reason="returned", nsf=True, acting_user=servicing_agent)
    cob_close_through(through=date(2026, 2, 20))
    payment_post(
        loan=paid,
        amount=PAYMENT,
        method="check",
        effective_date=date(2026, 2, 15),
        acting_user=servicing_agent,
    )
    cob_close_through(through=date(2026, 3, 1))
    charge_off_request(loan=late, reason="uncollectable", acting_user=servicing_agent)
    charge_off_decide(loan=late, approve=True, reason="ok", acting_user=admin_user)
    payment_post(loan=late, amount=Decimal("50.00"), method="check", acting_user=servicing_agent)
    cob_close_through(through=OPEN_DAY - timedelta(days=1))
    payment_post(loan=paid, amount=Decimal("25.00"), method="cash", acting_user=servicing_agent)
    return {"paid": paid, "late": late, "auto": auto}


def _build(name: str, date_from: date, date_to: date, product: str = ""):
    table = report_get(name).build(
        ReportFilters(date_from=date_from, date_to=date_to, product=product)
    )
    return table.rows, table.summary


def _every_report() -> dict:
    return {
        (name, window, product): _build(name, *window, product)
        for name in LEDGER_REPORTS
        for window in WINDOWS
        for product in ("", "PERSONAL", "AUTO")
    }


def _rows(model) -> set[tuple]:
    return {row[1:] for row in model.objects.order_by().values_list()}  # without the id


def test_the_book_has_what_the_reports_must_get_right(book):
    entry_types = set(JournalEntry.objects.values_list("entry_type", flat=True))
    written = set(DailyTotalsDay.objects.values_list("business_date", flat=True))

    assert {"disbursement", "accrual", "payment", "reversal", "fee", "charge_off"} <= entry_types
    assert Payment.objects.filter(status="reversed", posted_on=date(2026, 1, 31)).exists()
    assert Payment.objects.filter(is_recovery=True).exists()
    assert written == {date(2026, 1, 1) + timedelta(days=n) for n in range(64)}
    assert OPEN_DAY not in written
    assert JournalLine.objects.filter(entry__business_date=OPEN_DAY).exists()


def test_each_report_read_from_the_totals_equals_the_one_read_from_the_lines(book):
    from_totals = _every_report()

    DailyTotalsDay.objects.all().delete()  # no day written: every day read from the lines
    from_lines = _every_report()

    for key, table in from_totals.items():
        assert table == from_lines[key], key
    assert any(rows for rows, _ in from_totals.values())


def test_reports_equal_plain_sums_of_the_lines_and_payments(book):
    for (first, last), product in [(w, p) for w in WINDOWS for p in ("", "PERSONAL", "AUTO")]:
        lines = JournalLine.objects.filter(
            entry__business_date__gte=first, entry__business_date__lte=last
        )
        payments = Payment.objects.filter(posted_on__gte=first, posted_on__lte=last)
        if product:
            lines = lines.filter(entry__loan__product_code=product)
            payments = payments.filter(loan__product_code=product)
        sums = lines.aggregate(d=Sum("debit"), c=Sum("credit"), n=Count("id"))
        _, journal = _build("journal", first, last, product)
        tb_rows, _ = _build("trial_balance", first, last, product)
        pay_rows, pay = _build("payments", first, last, product)
        disb_rows, _ = _build("disbursements", first, last, product)

        assert (journal["total_debit"], journal["total_credit"], journal["lines"]) == (
            round_money(sums["d"] or 0),
            round_money(sums["c"] or 0),
            sums["n"],
        )
        balances = (
            JournalLine.objects.filter(entry__business_date__lte=last)
            .filter(**({"entry__loan__product_code": product} if product else {}))
            .values_list("account")
            .annotate(d=Sum("debit"), c=Sum("credit"))
        )
        assert {r["account"]: r["debit"] - r["credit"] for r in tb_rows} == {
            account: round_money(d - c) for account, d, c in balances
        }
        assert pay["payments"] == payments.count()
        assert pay["total_amount"] == round_money(payments.aggregate(s=Sum("amount"))["s"] or 0)
        reversed_ = payments.filter(status="reversed").aggregate(s=Sum("amount"))["s"] or 0
        assert sum(r["reversed"] for r in pay_rows) == round_money(reversed_)
        disbursed = lines.filter(entry__entry_type="disbursement", account="1100")
        assert sum(r["loans"] for r in disb_rows) == disbursed.count()


def test_a_day_not_marked_written_is_read_from_its_lines_not_counted_twice(book):
    before = _every_report()

    # a day whose marker is gone but whose rows are still there (a backfill in doubt):
    # read from its lines, its rows left out
    DailyTotalsDay.objects.filter(business_date=date(2026, 2, 5)).delete()
    # and a day with neither (a book from before the totals)
    DailyTotalsDay.objects.filter(business_date=date(2026, 1, 31)).delete()
    LedgerDayTotal.objects.filter(business_date=date(2026, 1, 31)).delete()
    PaymentDayTotal.objects.filter(business_date=date(2026, 1, 31)).delete()

    assert _every_report() == before


def test_the_reports_read_the_written_totals(book):
    """Not the lines: a written day's row changed by hand changes the reports."""
    row = LedgerDayTotal.objects.filter(
        business_date=date(2026, 1, 1),
        product_code="PERSONAL",
        entry_type="disbursement",
        account="1100",
    ).first()
    LedgerDayTotal.objects.filter(pk=row.pk).update(debit=row.debit + 1)
    PaymentDayTotal.objects.filter(business_date=date(2026, 1, 31), method="ach").update(payments=7)

    _, journal = _build("journal", date(2026, 1, 1), date(2026, 1, 1))
    disb_rows, _ = _build("disbursements", date(2026, 1, 1), date(2026, 1, 1), "PERSONAL")
    _, payments = _build("payments", date(2026, 1, 31), date(2026, 1, 31))

    assert journal["total_debit"] == journal["total_credit"] + 1
    assert disb_rows[0]["principal"] == row.debit + 1
    assert payments["payments"] == 8  # 7 by ACH as written, 1 in cash


def test_close_of_business_records_the_step_and_backfill_writes_the_same_rows(book):
    run = CobRun.objects.get(business_date=date(2026, 2, 5))
    written = LedgerDayTotal.objects.filter(business_date=date(2026, 2, 5)).count()
    written += PaymentDayTotal.objects.filter(business_date=date(2026, 2, 5)).count()
    ledger, payments = _rows(LedgerDayTotal), _rows(PaymentDayTotal)

    call_command("backfill_ledger_totals", "--from", "2026-01-01")

    assert run.steps["daily_totals"]["count"] == written > 0
    assert _rows(LedgerDayTotal) == ledger
    assert _rows(PaymentDayTotal) == payments
    assert set(DailyTotalsDay.objects.values_list("source", flat=True)) == {"backfill"}
    assert DailyTotalsDay.objects.count() == 64


def test_backfill_writes_closed_days_only(book):
    with pytest.raises(CommandError):
        call_command("backfill_ledger_totals", "--from", "2026-03-01", "--to", "2026-03-06")


def test_rerunning_a_day_replaces_its_rows(book):
    day = date(2026, 2, 21)
    before = _rows(LedgerDayTotal)

    daily_totals_write(day, source="cob")
    daily_totals_write(day, source="cob")

    assert _rows(LedgerDayTotal) == before
    assert DailyTotalsDay.objects.filter(business_date=day).count() == 1
