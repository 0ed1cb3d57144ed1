"""Daily ledger and payment totals (servicing/daily_totals.py) and the ledger reports that read
them (servicing/reports.py): over a scripted book closed day by day (payments, a backdated
payment, a reversal with its NSF fee, late fees, a non-accrual loan, a charge-off and a
recovery, a payment on the open business date; on PostgreSQL close of business's shared
accrual entries), every report read from the totals equals the same report read from the
journal lines and payments alone, and equals plain sums of the lines, with each product's
share of the shared accrual income worked out from the accruals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Sum

from lendcore.core.reports import ReportFilters, report_get
from lendcore.finance.money import ZERO, round_money
from servicing.cob.runner import cob_close_through
from servicing.daily_totals import _ledger_cells, daily_totals_write, ledger_row_reads
from servicing.ledger import cr, dr, journal_post
from servicing.models import (
    CobRun,
    DailyTotalsDay,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    LedgerDayTotal,
    Loan,
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
def book(borrower, business_date, servicing_agent, admin_user, settings):
    """Three 1,200.00 loans disbursed 2026-01-01 (`paid` and `late` PERSONAL, `auto` AUTO):
    `paid` pays on 2026-01-31 and again on 2026-02-21 (backdated to 2026-02-15) and on the
    open business date; `auto` pays on 2026-01-31, reversed (NSF) on 2026-02-05 after that
    day closed; `late` never pays (late fees, non-accrual from 5 days past due: its interest
    to suspense), is charged off on 2026-03-02 and recovers 50.00 the same day. Closed
    through 2026-03-05."""
    settings.COB_NON_ACCRUAL_DPD = 5
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
    assert InterestAccrual.objects.filter(to_suspense=True, posted__gt=0).exists()
    assert JournalLine.objects.filter(account="2900", credit__gt=0).exists()
    if connection.vendor == "postgresql":  # close of business's set-based accrual
        shared = JournalEntry.objects.filter(entry_type="accrual", loan__isnull=True)
        assert shared.filter(lines__account="2900", lines__credit__gt=0).exists()
        assert shared.filter(lines__loan__product_code="AUTO").exists()
        assert shared.filter(lines__loan__product_code="PERSONAL").exists()
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
        share = ZERO  # the product's share of the shared accrual income, from the accruals
        if product:
            lines = lines.filter(loan__product_code=product)
            payments = payments.filter(loan__product_code=product)
            share = _shared_income(product, first, last)
        sums = lines.aggregate(d=Sum("debit"), c=Sum("credit"), n=Count("id"))
        _, journal = _build("journal", first, last, product)
        tb_rows, _ = _build("trial_balance", first, last, product)
        pay_rows, pay = _build("payments", first, last, product)
        disb_rows, _ = _build("disbursements", first, last, product)

        assert (journal["total_debit"], journal["total_credit"], journal["lines"]) == (
            round_money(sums["d"] or 0),
            round_money((sums["c"] or 0) + share),
            sums["n"],
        )
        assert journal["total_debit"] == journal["total_credit"]
        balances = (
            JournalLine.objects.filter(entry__business_date__lte=last)
            .filter(**({"loan__product_code": product} if product else {}))
            .values_list("account")
            .annotate(d=Sum("debit"), c=Sum("credit"))
        )
        expected = {account: d - c for account, d, c in balances}
        if product:
            income = _shared_income(product, None, last)
            expected["4100"] = expected.get("4100", ZERO) - income
        assert {r["account"]: r["debit"] - r["credit"] for r in tb_rows} == {
            account: round_money(net) for account, net in expected.items()
        }
        assert pay["payments"] == payments.count()
        assert pay["total_amount"] == round_money(payments.aggregate(s=Sum("amount"))["s"] or 0)
        reversed_ = payments.filter(status="reversed").aggregate(s=Sum("amount"))["s"] or 0
        assert sum(r["reversed"] for r in pay_rows) == round_money(reversed_)
        disbursed = lines.filter(entry__entry_type="disbursement", account="1100")
        assert sum(r["loans"] for r in disb_rows) == disbursed.count()


def _shared_income(product: str, first: date | None, last: date):
    """Interest income of `product` in close of business's shared accrual entries of the
    business dates: its loans' accruals posted there to income (not to suspense)."""
    accruals = InterestAccrual.objects.filter(
        loan__product_code=product,
        to_suspense=False,
        entry__loan__isnull=True,
        entry__business_date__lte=last,
    )
    if first is not None:
        accruals = accruals.filter(entry__business_date__gte=first)
    return accruals.aggregate(s=Sum("posted"))["s"] or ZERO


def _by_account(rows) -> dict[str, Decimal]:
    return {r["account"]: r["debit"] - r["credit"] for r in rows}


def test_income_and_trial_balance_by_product_count_the_shared_accrual_income(book):
    """With a product, income is its loans' own income lines plus its loans' accruals to
    income in the shared entries (worked out from the accruals, not from the lines' rule);
    the products add up to the whole book, and each product's trial balance balances."""
    keys = ("interest_income", "fee_income", "recoveries", "total_income")
    for first, last in WINDOWS:
        whole = _build("income", first, last)[1]
        parts = {p: _build("income", first, last, p)[1] for p in ("PERSONAL", "AUTO")}
        for product, summary in parts.items():
            own = (
                JournalLine.objects.filter(
                    loan__product_code=product,
                    entry__business_date__gte=first,
                    entry__business_date__lte=last,
                )
                .values_list("account")
                .annotate(net=Sum("credit") - Sum("debit"))
            )
            net = dict(own)
            interest = net.get("4100", ZERO) + _shared_income(product, first, last)
            assert summary["interest_income"] == round_money(interest), (product, first)
            assert summary["fee_income"] == round_money(net.get("4200", ZERO))
            assert summary["recoveries"] == round_money(net.get("4300", ZERO))
        for key in keys:
            assert parts["PERSONAL"][key] + parts["AUTO"][key] == whole[key], (key, first)

        tb = _build("trial_balance", first, last)
        tb_parts = [_build("trial_balance", first, last, p) for p in ("PERSONAL", "AUTO")]
        summed: dict[str, Decimal] = {}
        for rows, summary in tb_parts:
            assert summary["total_debit"] == summary["total_credit"] > 0
            for account, net in _by_account(rows).items():
                summed[account] = summed.get(account, ZERO) + net
        assert {a: n for a, n in summed.items() if n} == {
            a: n for a, n in _by_account(tb[0]).items() if n
        }
    march = _build("income", date(2026, 1, 1), OPEN_DAY, "PERSONAL")[1]
    assert march["interest_income"] > 0
    if connection.vendor == "postgresql":  # the shared entries are most of the interest
        assert _shared_income("PERSONAL", None, OPEN_DAY) > 0
        assert _shared_income("AUTO", None, OPEN_DAY) > 0


def test_a_shared_accrual_income_row_is_written_per_product(book):
    """The written totals carry each product's share on its own row; the blank product's
    accrual income row, if any, keeps only the loanless lines' count; the totals of each
    account and day are the lines'."""
    blank = LedgerDayTotal.objects.filter(product_code="", account="4100")
    assert not blank.exclude(debit=0, credit=0).exists()
    by_cell = {
        (day, account): (d, c)
        for day, account, d, c in LedgerDayTotal.objects.values_list("business_date", "account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    }
    lines = {
        (day, account): (d, c)
        for day, account, d, c in JournalLine.objects.filter(entry__business_date__lt=OPEN_DAY)
        .values_list("entry__business_date", "account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    }
    assert by_cell == lines
    written_lines = LedgerDayTotal.objects.aggregate(n=Sum("lines"))["n"]
    assert written_lines == JournalLine.objects.filter(entry__business_date__lt=OPEN_DAY).count()
    if connection.vendor == "postgresql":
        assert blank.filter(entry_type="accrual", lines__gt=0).exists()
        personal = LedgerDayTotal.objects.filter(
            product_code="PERSONAL", entry_type="accrual", account="4100", credit__gt=0
        )
        assert personal.filter(lines=0, entries__gt=0).exists()


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


def test_a_shared_accrual_entry_by_hand_is_attributed_on_every_database(book):
    """One shared accrual entry as close of business's SQL posts it (no loan on the entry;
    a receivable debit per loan, suspense for the non-accrual `late`, one loanless income
    credit), so SQLite sees one too: each product gets its accruing loans' part, the totals
    and the lines agree, and the entry's journal shows only the product's lines."""
    day = date(2026, 2, 10)  # a closed day
    window = (day, day)
    before = {p: _build("income", *window, p)[1]["interest_income"] for p in ("PERSONAL", "AUTO")}
    entry = JournalEntry.objects.create(
        business_date=day, effective_date=day, entry_type="accrual", reference="COB by hand"
    )
    JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, loan=book["paid"], account="1110", debit=Decimal("1.11")),
            JournalLine(entry=entry, loan=book["auto"], account="1110", debit=Decimal("2.22")),
            JournalLine(entry=entry, loan=book["late"], account="1110", debit=Decimal("0.50")),
            JournalLine(entry=entry, loan=book["late"], account="2900", credit=Decimal("0.50")),
            JournalLine(entry=entry, loan=None, account="4100", credit=Decimal("3.33")),
        ]
    )
    daily_totals_write(day, source="backfill")
    from_totals = _every_report()

    after = {p: _build("income", *window, p)[1]["interest_income"] for p in ("PERSONAL", "AUTO")}
    assert after["PERSONAL"] - before["PERSONAL"] == Decimal("1.11")
    assert after["AUTO"] - before["AUTO"] == Decimal("2.22")
    written = LedgerDayTotal.objects.get(
        business_date=day, product_code="AUTO", entry_type="accrual", account="4100"
    )
    assert written.credit >= Decimal("2.22")
    _, journal = _build("journal", *window, "AUTO")
    assert journal["total_debit"] == journal["total_credit"]
    shown = _build("journal", *window, "AUTO")[0]
    assert [r["account"] for r in shown if r["entry_id"] == entry.pk] == ["1110"]

    DailyTotalsDay.objects.all().delete()
    assert _every_report() == from_totals
    # the loans' cached interest as the ledger now says, and `late`'s suspense cleared (it
    # is closed): the servicing tests' ledger check at teardown
    for loan, amount in ((book["paid"], "1.11"), (book["auto"], "2.22"), (book["late"], "0.50")):
        Loan.objects.filter(pk=loan.pk).update(interest_balance=F("interest_balance") + amount)
    journal_post(
        entry_type="reversal",
        effective_date=OPEN_DAY,
        business_date=OPEN_DAY,
        loan=Loan.objects.get(pk=book["late"].pk),
        lines=[dr("2900", Decimal("0.50")), cr("1110", Decimal("0.50"))],
        memo="suspended interest of the entry by hand reversed",
    )


@pytest.mark.parametrize("chunks", [2, 3, 7])
def test_the_lines_read_in_ranges_of_entries_add_up_to_one_read(book, chunks):
    """Close of business reads a day's lines in ranges of entry ids, side by side: each
    entry's lines are in one range, so every figure, distinct entries included, adds up."""
    for days in [(date(2026, 1, 1), OPEN_DAY), (date(2026, 2, 5), date(2026, 2, 5))]:
        whole = _ledger_cells([row for read in ledger_row_reads(days) for row in read()])
        reads = ledger_row_reads(days, chunks=chunks)
        in_ranges = _ledger_cells([row for read in reads for row in read()])
        assert 1 < len(reads) <= chunks  # fewer when there are fewer entries
        assert in_ranges == whole
        assert whole
