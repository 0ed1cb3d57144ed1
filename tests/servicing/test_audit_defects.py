"""The servicing defects an outside audit reproduced, one test each (issue: money you can
trust). Each test failed before its fix; the ledger check runs after every one
(tests/servicing/conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from lendcore.finance.schedule import LoanTerms, build_schedule
from servicing.errors import LoanStateConflict, ServicingValidationError
from servicing.ledger import loan_suspense_balance
from servicing.models import (
    Account,
    ChargeOff,
    Fee,
    Installment,
    JournalLine,
    Loan,
    ScheduleVersion,
    Statement,
)
from servicing.services import (
    accrue_interest,
    business_date_set,
    charge_off_decide,
    charge_off_request,
    credit_refund,
    fee_assess,
    late_fees_assess,
    loan_modify,
    payment_reverse,
    statement_generate,
)

from .factories import board_loan
from .lives import billed, late_fees_charged, move_to, pay, pay_every_installment_as_billed

ZERO = Decimal("0.00")
D0 = date(2026, 1, 1)


def _closed_at_zero(loan: Loan) -> Loan:
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == Loan.Status.PAID_OFF
    assert (loan.principal_balance, loan.interest_balance, loan.fees_balance) == (ZERO,) * 3
    return loan


def _account(loan: Loan, account: str) -> Decimal:
    lines = JournalLine.objects.filter(loan_id=loan.pk, account=account)
    return sum((line.credit - line.debit for line in lines), ZERO)


# 1. Stranded principal -------------------------------------------------------------------


@pytest.mark.parametrize("day_count", ["ACT/365F", "ACT/360", "30/360", "ACT/ACT-ISDA"])
@pytest.mark.parametrize("cob", [False, True], ids=["services", "close-of-business"])
def test_1_daily_simple_paid_as_billed_within_grace_pays_off(
    borrower, business_date, day_count, cob
):
    # Given a daily-simple loan
    loan = board_loan(
        borrower=borrower, principal="10000.00", annual_rate="0.18", day_count=day_count
    )
    # When every installment is paid as billed five days after its due date (within grace)
    pay_every_installment_as_billed(loan, days_after_due=5, cob=cob)
    # Then the last one pays the loan off, no credit left and never a late fee
    loan = _closed_at_zero(loan)
    assert loan.credit_balance == ZERO
    assert late_fees_charged(loan) == []
    final = Installment.objects.filter(loan=loan, schedule__is_current=True).last()
    assert final.true_up != ZERO  # the interest of the late days went onto the final one
    assert not Installment.objects.filter(loan=loan, schedule__is_current=True).exclude(
        status="paid"
    )


def test_1_the_statement_api_and_portal_show_the_trued_up_final_installment(
    borrower, business_date, client, staff_api_client, servicing_agent
):
    from django.template.loader import render_to_string

    from servicing.statements import _context

    # Given a loan whose installments were each paid five days late, all but the last
    loan = board_loan(borrower=borrower, n_periods=3, principal="3000.00", annual_rate="0.18")
    rows = list(Installment.objects.filter(loan=loan).order_by("number"))
    for inst in rows[:-1]:
        on = inst.due_date + timedelta(days=5)
        move_to(on, cob=False)
        pay(loan, billed(loan, inst.number, on), on)
    # When the statement of the period ending on the second due date is made
    move_to(rows[1].due_date + timedelta(days=6), cob=False)
    statement = statement_generate(loan=loan, period_end=rows[1].due_date + timedelta(days=5))
    context = _context(statement)
    html = render_to_string("servicing/statement.html", context)
    # Then it bills the final installment as trued up to the actual balance
    final = Installment.objects.get(pk=rows[-1].pk)
    assert context["final"] == {
        "due_date": final.due_date,
        "amount": final.total_due,
        "true_up": final.true_up,
    }
    assert final.true_up > ZERO
    assert "trued up to your actual balance" in html
    # And so do the API's schedule and the borrower's loan page
    api = staff_api_client(servicing_agent).get(f"/api/v1/loans/{loan.pk}/schedule/").json()
    last = api["installments"][-1]
    assert Decimal(last["principal_true_up"]) + Decimal(last["interest_true_up"]) > ZERO
    assert Decimal(last["remaining"]) == billed(
        loan, final.number, rows[1].due_date + timedelta(days=6)
    )
    client.force_login(borrower.user)
    page = client.get(f"/my-loans/{loan.pk}/").content.decode()
    assert "trued up to your balance" in page


def test_1_scheduled_loan_paid_as_billed_after_a_mid_period_rate_change_pays_off(
    borrower, business_date, servicing_agent
):
    # Given a scheduled-interest loan whose rate halves in the middle of its third period
    loan = board_loan(borrower=borrower, principal="6000.00", interest_model="scheduled")
    for number in (1, 2):
        due = Installment.objects.get(loan=loan, number=number).due_date
        move_to(due, cob=True)
        pay(loan, billed(loan, number, due), due)
    move_to(date(2026, 3, 16), cob=True)
    loan_modify(loan=loan, annual_rate_pct=Decimal("6"), reason="rate", acting_user=servicing_agent)
    # When every installment of the new schedule is paid as billed on its due date
    pay_every_installment_as_billed(loan, days_after_due=0, cob=True)
    # Then the loan is paid off at zero, with no late fee
    loan = _closed_at_zero(loan)
    assert loan.credit_balance == ZERO
    assert late_fees_charged(loan) == []


# 2. Level payment under actual-day bases ----------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "rate", "months", "day_count"),
    [
        ("300000.00", "0.07", 360, "ACT/360"),
        ("300000.00", "0.07", 360, "ACT/365F"),
        ("10000.00", "3.99", 24, "ACT/365F"),
    ],
)
def test_2_level_payment_is_solved_on_the_actual_days(principal, rate, months, day_count):
    schedule = build_schedule(
        LoanTerms(
            principal=Decimal(principal),
            annual_rate=Decimal(rate),
            n_periods=months,
            frequency="monthly",
            disbursement_date=D0,
            day_count=day_count,
        )
    )
    last = schedule.installments[-1].payment
    assert abs(last - schedule.payment) <= schedule.payment / 100  # within 1 %
    assert all(row.payment > 0 for row in schedule.installments)


# 3. 30/360 daily accrual --------------------------------------------------------------------


def test_3_thirty_360_accrues_a_month_as_30_days_and_a_year_as_360(borrower, business_date):
    # Given 36,000 at 12 % on 30/360, disbursed on 31 January
    business_date(date(2026, 1, 31))
    loan = board_loan(
        borrower=borrower,
        principal="36000.00",
        day_count="30/360",
        disbursed_on=date(2026, 1, 31),
        n_periods=24,
    )
    # When it accrues through 31 March, then through the next 31 January
    business_date(date(2026, 3, 31))
    accrue_interest([loan.pk], date(2026, 3, 31))
    two_months = Loan.objects.get(pk=loan.pk).interest_balance
    business_date(date(2027, 1, 31))
    accrue_interest([loan.pk], date(2027, 1, 31))
    year = Loan.objects.get(pk=loan.pk).interest_balance
    # Then two months are 60 days (720.00) and the year 360 days (4,320.00)
    assert two_months == Decimal("720.00")
    assert year == Decimal("4320.00")


def test_3_an_on_time_thirty_360_borrower_ends_without_a_credit(borrower, business_date):
    loan = board_loan(borrower=borrower, principal="36000.00", day_count="30/360")
    pay_every_installment_as_billed(loan, days_after_due=0, cob=False)
    loan = _closed_at_zero(loan)
    assert loan.credit_balance == ZERO


# 4. A backdated on-time payment --------------------------------------------------------------


def test_4_backdated_on_time_payment_reverses_the_late_fee_and_dates_paid_on(
    borrower, business_date
):
    # Given the first installment (due 02-01) drew its late fee at the close of 02-12
    loan = board_loan(borrower=borrower)
    first = Installment.objects.get(loan=loan, number=1)
    business_date(date(2026, 2, 12))
    (fee,) = late_fees_assess(loan_ids=[loan.pk], business_date=date(2026, 2, 12))
    # When the payment that arrived on its due date is posted on 02-15, dated 02-01
    business_date(date(2026, 2, 15))
    payment = pay(loan, first.total_due, date(2026, 2, 1))
    # Then the fee is reversed, nothing of the payment went to it, and the installment was
    # paid on 02-01
    fee.refresh_from_db()
    first.refresh_from_db()
    assert fee.reversed_on == date(2026, 2, 15)
    assert fee.outstanding == ZERO
    assert payment.alloc_fees == ZERO
    assert first.status == "paid"
    assert first.paid_on == date(2026, 2, 1)
    assert Loan.objects.get(pk=loan.pk).fees_balance == ZERO
    assert _account(loan, Account.FEE_INCOME) == ZERO


# 5. No pyramiding ---------------------------------------------------------------------------


@pytest.mark.parametrize("cob", [False, True], ids=["python", "close-of-business"])
def test_5_a_full_on_time_payment_short_only_by_an_earlier_late_fee_draws_no_fee(
    borrower, business_date, cob
):
    # Given the first installment was late and drew a late fee; the borrower then paid the
    # installment amount, of which the fee took 15.00
    loan = board_loan(borrower=borrower)
    first, second = (Installment.objects.get(loan=loan, number=n) for n in (1, 2))
    move_to(date(2026, 2, 12), cob=cob)
    if not cob:
        late_fees_assess(loan_ids=[loan.pk], business_date=date(2026, 2, 12))
    move_to(date(2026, 2, 20), cob=cob)
    pay(loan, first.total_due, date(2026, 2, 20))
    # When the second installment is paid in full on its due date, and its grace days pass
    move_to(second.due_date, cob=cob)
    pay(loan, second.total_due, second.due_date)
    day = second.due_date + timedelta(days=11)
    move_to(day, cob=cob)
    if not cob:
        late_fees_assess(loan_ids=[loan.pk], business_date=day)
    else:
        move_to(day + timedelta(days=1), cob=True)
    # Then only the first late fee was ever charged
    assert len(late_fees_charged(loan)) == 1


# 6. A backdated payoff before a fee ----------------------------------------------------------


def test_6_backdated_payoff_before_a_fee_closes_the_loan_with_the_rest_as_credit(
    borrower, business_date, servicing_agent
):
    # Given a manual fee of 20.00 charged on 02-05
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 2, 5))
    fee_assess(loan=loan, kind="manual", amount=Decimal("20.00"), reason="copy", acting_user=None)
    # When the payoff quoted on 02-20 is posted on 02-20, dated 02-03 (it arrived then)
    business_date(date(2026, 2, 20))
    amount = billed(loan, 1, date(2026, 2, 20))  # not the payoff: use the quote
    from servicing.services import payoff_quote

    quote = payoff_quote(loan=Loan.objects.get(pk=loan.pk), on=date(2026, 2, 20))
    assert quote.payoff_amount > amount
    pay(loan, quote.payoff_amount, date(2026, 2, 3), allow_credit=True)
    # Then the loan is paid off; the credit paid the fee and the rest stays refundable
    loan = _closed_at_zero(loan)
    assert loan.credit_balance > ZERO
    assert Fee.objects.get(loan=loan).outstanding == ZERO
    credit = credit_refund(loan=loan, acting_user=servicing_agent)
    assert credit > ZERO
    assert Loan.objects.get(pk=loan.pk).credit_balance == ZERO


# 7. Interest in suspense ---------------------------------------------------------------------


def test_7_suspended_interest_is_released_on_collection_and_when_the_loan_cures(
    borrower, business_date, settings
):
    # Given a loan that went non-accrual at 5 days past due and accrued into suspense
    settings.COB_NON_ACCRUAL_DPD = 5
    loan = board_loan(borrower=borrower)
    first = Installment.objects.get(loan=loan, number=1)
    move_to(date(2026, 2, 16), cob=True)
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.non_accrual
    held = loan_suspense_balance(loan.pk)
    assert held > ZERO
    # When the borrower brings the loan current
    income_before = _account(loan, Account.INTEREST_INCOME)
    pay(loan, first.remaining + loan.fees_balance + Decimal("5.00"), date(2026, 2, 16))
    # Then the interest collected moved from suspense to income
    assert loan_suspense_balance(loan.pk) < held
    assert _account(loan, Account.INTEREST_INCOME) > income_before
    # And the next close lifts the flag and recognises what is still held
    move_to(date(2026, 2, 17), cob=True)
    loan = Loan.objects.get(pk=loan.pk)
    assert not loan.non_accrual
    assert loan_suspense_balance(loan.pk) == ZERO


def test_7_charge_off_reverses_suspended_interest_instead_of_expensing_it(
    borrower, business_date, settings, servicing_agent, admin_user
):
    settings.COB_NON_ACCRUAL_DPD = 5
    loan = board_loan(borrower=borrower)
    move_to(date(2026, 2, 20), cob=True)
    held = loan_suspense_balance(loan.pk)
    assert held > ZERO
    charge_off_request(loan=loan, reason="gone", acting_user=servicing_agent)
    charge_off_decide(loan=loan, approve=True, reason="ok", acting_user=admin_user)
    loan = Loan.objects.get(pk=loan.pk)
    charge_off = ChargeOff.objects.get(loan=loan)
    owed = charge_off.principal + charge_off.interest + charge_off.fees
    lines = charge_off.entry.lines.all()
    reversed_ = sum((ln.debit for ln in lines if ln.account == Account.SUSPENSE), ZERO)
    expensed = sum((ln.debit for ln in lines if ln.account == Account.CHARGE_OFF), ZERO)
    # the interest held in suspense (grown by the charge-off day's accrual) was reversed
    assert reversed_ >= held
    assert loan_suspense_balance(loan.pk) == ZERO
    assert expensed == owed - reversed_  # and only the rest expensed


# 8. A payment returned after its excess was refunded -----------------------------------------


def test_8_reversing_a_payment_whose_excess_was_refunded_charges_the_refund_back(
    borrower, business_date, servicing_agent
):
    # Given an overpayment paid the loan off and its excess credit was refunded
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 1, 20))
    payment = pay(loan, Decimal("1300.00"), date(2026, 1, 20), allow_credit=True)
    refunded = credit_refund(loan=loan, acting_user=servicing_agent)
    # When the payment comes back (NSF)
    payment_reverse(payment=payment, reason="NSF", nsf=True, acting_user=servicing_agent)
    # Then the loan is open again and the refunded amount is owed back
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == Loan.Status.ACTIVE
    assert loan.credit_balance == ZERO
    owed_back = Fee.objects.get(loan=loan, kind=Fee.Kind.REFUND)
    assert owed_back.amount == refunded
    assert loan.principal_balance == Decimal("1200.00")


# 9. Statement fees ---------------------------------------------------------------------------


def test_9_statement_counts_a_fee_once_through_a_replay(borrower, business_date):
    # Given a 20.00 fee paid by a payment, then a payment backdated before that payment
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 1, 10))
    fee_assess(loan=loan, kind="manual", amount=Decimal("20.00"), reason="copy", acting_user=None)
    business_date(date(2026, 1, 20))
    pay(loan, Decimal("50.00"), date(2026, 1, 20))
    pay(loan, Decimal("10.00"), date(2026, 1, 15))  # replays the 01-20 payment
    # When the statement is made
    business_date(date(2026, 2, 1))
    statement = statement_generate(loan=loan, period_end=date(2026, 2, 1))
    # Then it charged 20.00 of fees, not 40.00
    assert statement.fees_charged == Decimal("20.00")


# 10. Re-amortization keeps the terms ---------------------------------------------------------


def test_10_reamortizing_an_interest_only_loan_keeps_it_interest_only_and_its_rounding(
    borrower, business_date
):
    loan = board_loan(
        borrower=borrower,
        amortization="interest_only",
        payment_rounding="1.00",
        prepayment_option="reamortize",
    )
    business_date(date(2026, 2, 1))
    pay(loan, Decimal("512.00"), date(2026, 2, 1))
    version = ScheduleVersion.objects.get(loan=loan, is_current=True)
    assert version.version == 2
    rows = list(Installment.objects.filter(schedule=version).order_by("number"))
    future = [row for row in rows if row.due_date > date(2026, 2, 1)]
    assert all(row.principal_due == ZERO for row in future[:-1])  # still interest only
    assert future[-1].principal_due > ZERO


# 11. Recoveries are capped -------------------------------------------------------------------


def test_11_recovery_beyond_the_charge_off_is_the_borrowers_credit(
    borrower, business_date, servicing_agent, admin_user
):
    loan = board_loan(borrower=borrower)
    business_date(date(2026, 3, 1))
    charge_off_request(loan=loan, reason="gone", acting_user=servicing_agent)
    charge_off = charge_off_decide(loan=loan, approve=True, reason="ok", acting_user=admin_user)
    charged_off = charge_off.principal + charge_off.interest + charge_off.fees
    with pytest.raises(ServicingValidationError) as refused:
        pay(loan, charged_off + Decimal("100.00"), date(2026, 3, 1))
    assert "amount" in refused.value.extra["fields"]
    pay(loan, charged_off + Decimal("100.00"), date(2026, 3, 1), allow_credit=True)
    loan = Loan.objects.get(pk=loan.pk)
    assert _account(loan, Account.RECOVERIES) == charged_off
    assert loan.credit_balance == Decimal("100.00")


# 12. Due-day change and deferral on a long loan ----------------------------------------------


@pytest.mark.parametrize("change", [{"due_day": 28}, {"defer_installments": 3}])
def test_12_long_loan_takes_a_due_day_change_or_a_deferral(
    borrower, business_date, admin_user, settings, change
):
    settings.SERVICING_MODIFICATION_APPROVAL_LIMIT = "1000000.00"
    loan = board_loan(borrower=borrower, principal="300000.00", annual_rate="0.07", n_periods=360)
    business_date(date(2026, 1, 10))
    modification = loan_modify(loan=loan, reason="hardship", acting_user=admin_user, **change)
    assert modification.status == "applied"
    rows = list(Installment.objects.filter(loan=loan, schedule__is_current=True).order_by("number"))
    regular = ScheduleVersion.objects.get(loan=loan, is_current=True).regular_payment
    assert all(row.total_due > 0 for row in rows)
    assert all(row.total_due <= regular for row in rows[:-1])  # the extra interest is carried
    assert abs(rows[-1].total_due - regular) <= regular / 100


# 13. No second late fee after a modification -------------------------------------------------


def test_13_a_modification_does_not_charge_the_same_late_fee_again(
    borrower, business_date, servicing_agent
):
    loan = board_loan(borrower=borrower)
    move_to(date(2026, 2, 13), cob=True)
    assert len(late_fees_charged(loan)) == 1
    loan_modify(loan=loan, annual_rate_pct=Decimal("9"), reason="rate", acting_user=servicing_agent)
    move_to(date(2026, 2, 16), cob=True)
    assert len(late_fees_charged(loan)) == 1


# 14. The business date never goes back into a closed day -------------------------------------


def test_14_business_date_cannot_move_into_a_closed_day(
    borrower, business_date, staff_api_client, admin_user
):
    board_loan(borrower=borrower)
    move_to(date(2026, 1, 5), cob=True)
    admin = staff_api_client(admin_user)
    response = admin.put("/api/v1/business-date/", {"business_date": "2026-01-04"}, format="json")
    assert response.status_code == 409
    assert "closed" in response.json()["message"]
    assert "business_date" in response.json()["extra"]["fields"]
    assert admin.get("/api/v1/business-date/").json() == {"business_date": "2026-01-05"}
    later = admin.put("/api/v1/business-date/", {"business_date": "2026-01-07"}, format="json")
    assert later.status_code == 200
    with pytest.raises(LoanStateConflict):
        business_date_set(business_date=date(2026, 1, 1), acting_user=None)


# 15. Unbounded amounts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("fees", {"kind": "manual", "amount": "9999999999999999.99", "reason": "x"}),
        ("payments", {"amount": "9999999999999999.99", "method": "cash", "allow_credit": True}),
        ("payments", {"amount": "1000000000.00", "method": "cash", "allow_credit": True}),
    ],
)
def test_15_money_inputs_stop_at_the_bound_and_lists_keep_working(
    borrower, business_date, staff_api_client, admin_user, path, body
):
    loan = board_loan(borrower=borrower)
    admin = staff_api_client(admin_user)
    response = admin.post(
        f"/api/v1/loans/{loan.pk}/{path}/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 400
    assert "amount" in response.json()["extra"]["fields"]
    assert admin.get("/api/v1/loans/").status_code == 200


def test_15_the_largest_amount_is_stored_and_read_back_exactly(
    borrower, business_date, staff_api_client, admin_user
):
    loan = board_loan(borrower=borrower)
    admin = staff_api_client(admin_user)
    body = {"amount": "999999999.99", "method": "wire", "allow_credit": True}
    response = admin.post(
        f"/api/v1/loans/{loan.pk}/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "999999999.99"
    listed = admin.get("/api/v1/loans/").json()["results"][0]
    owed = Decimal("1200.00") + Loan.objects.get(pk=loan.pk).interest_balance
    assert listed["credit_balance"] == str(Decimal("999999999.99") - owed)
    call_command("ledger_check")
    assert Statement.objects.count() == 0
