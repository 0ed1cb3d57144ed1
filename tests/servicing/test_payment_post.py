from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicing.errors import LoanStateConflict, ServicingValidationError
from servicing.models import Fee, Installment, JournalEntry, Loan, Payment, PaymentApplication
from servicing.services import accrue_interest, payment_post, payment_reverse

D0 = date(2026, 1, 1)


def _pay(loan, amount, on, user=None, allow_credit=True):
    return payment_post(
        loan=loan,
        amount=Decimal(amount),
        effective_date=on,
        method="ach",
        acting_user=user,
        allow_credit=allow_credit,
    )


def _state(loan):
    loan.refresh_from_db()
    schedule = list(
        Installment.objects.filter(loan=loan, schedule__is_current=True)
        .order_by("number")
        .values_list("principal_paid", "interest_paid", "cancelled", "status")
    )
    return (
        loan.status,
        loan.principal_balance,
        loan.interest_balance,
        loan.fees_balance,
        loan.credit_balance,
        loan.accrued_interest_exact,
        schedule,
    )


def test_payment_pays_interest_then_principal(loan, business_date, servicing_agent):
    business_date(date(2026, 2, 1))
    payment = _pay(loan, "106.59", date(2026, 2, 1), servicing_agent)

    loan.refresh_from_db()
    # 31 days of 12 % on 1,200 under ACT/365F; 106.59, the level payment of the actual days
    assert payment.alloc_interest == Decimal("12.23")
    assert payment.alloc_principal == Decimal("94.36")
    assert payment.alloc_excess == Decimal("0.00")
    assert loan.principal_balance == Decimal("1105.64")
    assert loan.interest_balance == Decimal("0.00")
    first = Installment.objects.get(loan=loan, number=1, schedule__is_current=True)
    assert first.status == Installment.Status.PAID


def test_fees_come_first_by_default(loan, business_date, servicing_agent):
    from servicing.fees import fee_assess

    business_date(date(2026, 1, 20))
    fee_assess(loan=loan, kind="manual", amount=Decimal("10.00"), reason="copy", acting_user=None)
    payment = _pay(loan, "15.00", date(2026, 1, 20))

    assert payment.alloc_fees == Decimal("10.00")
    assert payment.alloc_interest == Decimal("5.00")
    assert Fee.objects.get().outstanding == Decimal("0.00")


def test_allocation_order_is_configurable(borrower, business_date):
    from servicing.fees import fee_assess

    from .factories import board_loan

    loan = board_loan(borrower=borrower, allocation_order=("interest", "principal", "fees"))
    business_date(date(2026, 1, 20))
    fee_assess(loan=loan, kind="manual", amount=Decimal("10.00"), reason="copy", acting_user=None)
    payment = _pay(loan, "20.00", date(2026, 1, 20))

    assert payment.alloc_fees == Decimal("0.00")
    assert payment.alloc_interest == Decimal("7.50")
    assert payment.alloc_principal == Decimal("12.50")


def test_prepayment_reduces_term_by_default(loan, business_date):
    business_date(date(2026, 2, 1))
    payment = _pay(loan, "500.00", date(2026, 2, 1))

    assert payment.alloc_excess > 0
    last = Installment.objects.get(loan=loan, number=12, schedule__is_current=True)
    assert last.status == Installment.Status.PAID
    second = Installment.objects.get(loan=loan, number=2, schedule__is_current=True)
    assert second.status == Installment.Status.UPCOMING


def test_prepayment_reamortizes_when_the_product_says_so(borrower, business_date):
    from .factories import board_loan

    loan = board_loan(borrower=borrower, prepayment_option="reamortize")
    business_date(date(2026, 2, 1))
    _pay(loan, "500.00", date(2026, 2, 1))

    versions = list(loan.schedule_versions.order_by("version"))
    assert [v.is_current for v in versions] == [False, True]
    assert versions[1].regular_payment < versions[0].regular_payment
    assert Installment.objects.filter(schedule=versions[1]).count() == 12


def test_overpayment_pays_off_and_holds_credit(loan, business_date):
    business_date(date(2026, 1, 11))
    payment = _pay(loan, "1300.00", date(2026, 1, 11))

    loan.refresh_from_db()
    assert loan.status == Loan.Status.PAID_OFF
    assert loan.principal_balance == Decimal("0.00")
    assert loan.credit_balance == Decimal("1300.00") - Decimal("1200.00") - Decimal("3.95")
    assert payment.alloc_excess == Decimal("1300.00") - payment.alloc_interest - (
        payment.alloc_principal
    )
    assert not Installment.objects.filter(loan=loan, schedule__is_current=True).exclude(
        status="paid"
    )


def test_payment_to_paid_off_loan_is_refused(loan, business_date):
    business_date(date(2026, 1, 11))
    _pay(loan, "1300.00", date(2026, 1, 11))
    with pytest.raises(LoanStateConflict):
        _pay(loan, "10.00", date(2026, 1, 11))
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5.00", "10.001"])
def test_bad_amounts_change_nothing(loan, business_date, amount):
    business_date(date(2026, 1, 11))
    with pytest.raises(ServicingValidationError) as error:
        _pay(loan, amount, date(2026, 1, 11))
    assert "amount" in error.value.extra["fields"]
    assert Payment.objects.count() == 0
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize(
    "on", [date(2026, 1, 12), date(2025, 12, 31), date(2026, 1, 1)], ids=["future", "before", "old"]
)
def test_bad_effective_dates_change_nothing(loan, business_date, on, settings):
    settings.SERVICING_BACKDATE_WINDOW_DAYS = 5
    business_date(date(2026, 1, 11))
    with pytest.raises(ServicingValidationError) as error:
        _pay(loan, "10.00", on)
    assert "effective_date" in error.value.extra["fields"]
    assert Payment.objects.count() == 0


def test_backdated_payment_replays_later_ones(loan, business_date):
    business_date(date(2026, 1, 31))
    accrue_interest([loan.pk], date(2026, 1, 31))
    late = _pay(loan, "100.00", date(2026, 1, 31))
    early = _pay(loan, "100.00", date(2026, 1, 10))

    late.refresh_from_db()
    early.refresh_from_db()
    # interest is recomputed: the early payment lowered the balance the later one saw
    assert early.alloc_interest == Decimal("3.55")  # 9 days on 1,200.00
    assert late.alloc_interest == Decimal("7.62")  # 21 days on 1,103.55
    assert PaymentApplication.objects.filter(payment=late, reversed=True).count() == 1
    assert JournalEntry.objects.filter(entry_type="reversal").exists()
    assert _state(loan) == _state_of_dated(loan.borrower, [("100.00", 9), ("100.00", 30)], 30)


def _state_of_dated(borrower, payments, through_day):
    """A fresh loan with the same payments posted in date order."""
    from servicing.services import business_date_set

    from .factories import board_loan

    business_date_set(business_date=D0, acting_user=None)
    other = board_loan(borrower=borrower)
    for amount, day in sorted(payments, key=lambda p: p[1]):
        business_date_set(business_date=D0 + timedelta(days=day), acting_user=None)
        _pay(other, amount, D0 + timedelta(days=day))
    business_date_set(business_date=D0 + timedelta(days=through_day), acting_user=None)
    accrue_interest([other.pk], D0 + timedelta(days=through_day))
    return _state(other)


def test_reversal_replays_and_charges_nsf(loan, business_date, servicing_agent):
    business_date(date(2026, 2, 1))
    first = _pay(loan, "106.62", date(2026, 2, 1))
    business_date(date(2026, 2, 5))
    payment_reverse(payment=first, reason="returned", nsf=True, acting_user=servicing_agent)

    loan.refresh_from_db()
    first.refresh_from_db()
    assert first.status == Payment.Status.REVERSED
    assert loan.principal_balance == Decimal("1200.00")
    assert loan.fees_balance == Decimal("25.00")
    assert Fee.objects.get().kind == "nsf"
    with pytest.raises(LoanStateConflict):
        payment_reverse(payment=first, reason="again", acting_user=servicing_agent)
    assert Fee.objects.count() == 1


def test_reversing_payoff_reopens_the_loan(loan, business_date):
    business_date(date(2026, 1, 11))
    payment = _pay(loan, "1300.00", date(2026, 1, 11))
    payment_reverse(payment=payment, reason="chargeback", acting_user=None)

    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE
    assert loan.credit_balance == Decimal("0.00")
    assert loan.principal_balance == Decimal("1200.00")


payments_strategy = st.lists(
    st.tuples(
        # at most 5 x 200.00 on a 1,200.00 loan: the loan stays open in every order
        st.decimals(min_value=Decimal("1.00"), max_value=Decimal("200.00"), places=2),
        st.integers(min_value=1, max_value=60),
    ),
    min_size=1,
    max_size=5,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payments=payments_strategy, data=st.data())
def test_any_posting_order_ends_like_date_order(borrower, payments, data):
    """Posting dated payments in any order ends in the same balances and schedule."""
    _assert_posting_order_ends_like_date_order(borrower, data.draw(st.permutations(payments)))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "order",
    [
        # Hypothesis's draw, as reported
        [
            (Decimal("1.00"), 1),
            (Decimal("105.60"), 32),
            (Decimal("1.00"), 32),
            (Decimal("199.25"), 1),
        ],
        # the same payments, the day-32 ones received the other way round: the reference
        # sorted them back into the draw's list order, not the order they were received
        [
            (Decimal("1.00"), 1),
            (Decimal("1.00"), 32),
            (Decimal("105.60"), 32),
            (Decimal("199.25"), 1),
        ],
    ],
)
def test_backdated_replay_keeps_same_day_payments_in_the_order_received(borrower, order):
    """A payment backdated behind two same-day payments replays them in the order they were
    received, which is the order posting everything in date order applies them in."""
    _assert_posting_order_ends_like_date_order(borrower, order)


def _assert_posting_order_ends_like_date_order(borrower, order):
    from servicing.services import business_date_set

    from .factories import board_loan

    end = D0 + timedelta(days=60)
    business_date_set(business_date=end, acting_user=None)
    shuffled = board_loan(borrower=borrower)
    with settings_window():
        for amount, day in order:
            _pay(shuffled, amount, D0 + timedelta(days=day))
    accrue_interest([shuffled.pk], end)

    assert _state(shuffled) == _sorted_state(borrower, order, end)


class settings_window:
    """Let the property test backdate across its whole 60-day range."""

    def __enter__(self):
        from django.conf import settings as dj

        self._old = getattr(dj, "SERVICING_BACKDATE_WINDOW_DAYS", None)
        dj.SERVICING_BACKDATE_WINDOW_DAYS = 365

    def __exit__(self, *exc):
        from django.conf import settings as dj

        if self._old is None:
            del dj.SERVICING_BACKDATE_WINDOW_DAYS
        else:
            dj.SERVICING_BACKDATE_WINDOW_DAYS = self._old


def _sorted_state(borrower, order, end):
    """The loan's end state when `order`'s payments are posted in date order. Payments with
    the same effective date are applied in the order they were received (the engine's rule:
    (effective date, payment id), on every path), so the reference keeps `order`'s order
    within a date (a stable sort) rather than any other."""
    from servicing.services import business_date_set

    from .factories import board_loan

    business_date_set(business_date=end, acting_user=None)
    other = board_loan(borrower=borrower)
    with settings_window():
        for amount, day in sorted(order, key=lambda p: p[1]):
            _pay(other, amount, D0 + timedelta(days=day))
    accrue_interest([other.pk], end)
    return _state(other)
