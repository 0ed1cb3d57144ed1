"""The one-loan reads of `servicing.loan_access` against the ORM they replace.

`loan_with_due_get` is plain SQL for speed; it must answer exactly what
`loans_with_due(loans_visible_to(user))` answers (every column, the borrower, the three
schedule figures) and be visible to exactly the same users. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from servicing.errors import LoanNotFound
from servicing.loan_access import (
    loan_get_for_write,
    loan_ref,
    loan_with_due_get,
    loans_visible_to,
)
from servicing.models import Installment, Loan
from servicing.modify import loan_modify
from servicing.selectors import loans_with_due
from servicing.services import payment_post

from .factories import board_loan

FIGURES = ("past_due_amount", "next_installment_due_date", "next_installment_amount")
DATES = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 2), date(2026, 4, 15), date(2027, 6, 1)]


def _orm(user, loan_id: int, on: date) -> Loan | None:
    return loans_with_due(loans_visible_to(user), on=on).filter(pk=loan_id).first()


def _assert_same(user, loan_id: int, on: date) -> None:
    expected = _orm(user, loan_id, on)
    assert expected is not None
    found = loan_with_due_get(user=user, loan_id=loan_id, on=on)
    for field in Loan._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    for name in FIGURES:
        assert getattr(found, name) == getattr(expected, name), (name, on)
    assert found.borrower == expected.borrower
    assert found.borrower.user_id == expected.borrower.user_id


@pytest.fixture
def history(borrower, business_date):
    """A loan with its first installment paid, its second partly paid, then re-scheduled
    (a second schedule version; the first is no longer current)."""
    business_date(date(2026, 2, 15))
    loan = board_loan(borrower=borrower, principal="1200.00", disbursed_on=date(2026, 1, 1))
    first = Installment.objects.get(loan=loan, number=1)
    payment_post(
        loan=loan,
        amount=first.principal_due + first.interest_due + Decimal("7.13"),
        effective_date=date(2026, 2, 1),
        method="check",
        reference="first",
        acting_user=None,
    )
    return loan


def test_the_sql_read_answers_what_the_orm_answers_on_every_date(history, borrower):
    for on in DATES:
        _assert_same(borrower.user, history.pk, on)


def test_after_a_modification_only_the_current_schedule_counts(
    history, borrower, servicing_agent, business_date
):
    loan_modify(
        loan=history, annual_rate_pct=Decimal("6"), reason="rate", acting_user=servicing_agent
    )
    assert history.schedule_versions.count() == 2
    for on in DATES:
        _assert_same(borrower.user, history.pk, on)
        _assert_same(servicing_agent, history.pk, on)
    found = loan_with_due_get(user=borrower.user, loan_id=history.pk, on=date(2026, 4, 15))
    assert found.past_due_amount > 0
    assert found.next_installment_amount > 0


def test_a_loan_with_nothing_left_unpaid_has_no_next_installment(borrower, business_date):
    loan = board_loan(borrower=borrower, principal="1200.00", disbursed_on=date(2026, 1, 1))
    Installment.objects.filter(loan=loan).update(status="paid", paid_on=date(2026, 1, 1))
    found = loan_with_due_get(user=borrower.user, loan_id=loan.pk, on=date(2026, 6, 1))
    assert (found.past_due_amount, found.next_installment_amount) == (Decimal("0"), Decimal("0"))
    assert found.next_installment_due_date is None
    _assert_same(borrower.user, loan.pk, date(2026, 6, 1))


@pytest.mark.parametrize(
    "who",
    ["borrower", "other_borrower", "servicing_agent", "collector", "loan_officer", "underwriter"],
)
def test_the_loan_is_visible_to_exactly_whom_the_orm_shows_it(request, history, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)  # a borrower fixture is the Borrower row
    sees = _orm(user, history.pk, date(2026, 2, 15)) is not None
    if sees:
        _assert_same(user, history.pk, date(2026, 2, 15))
        assert loan_get_for_write(user=user, loan_id=history.pk).borrower_id == history.borrower_id
        return
    with pytest.raises(LoanNotFound):
        loan_with_due_get(user=user, loan_id=history.pk, on=date(2026, 2, 15))
    with pytest.raises(LoanNotFound):
        loan_get_for_write(user=user, loan_id=history.pk)


def test_the_owner_and_a_servicing_agent_see_it_and_the_other_borrower_does_not(
    history, borrower, other_borrower, servicing_agent
):
    # the parametrized test above compares with the ORM; this pins the answer itself
    on = date(2026, 2, 15)
    assert loan_with_due_get(user=borrower.user, loan_id=history.pk, on=on).pk == history.pk
    assert loan_with_due_get(user=servicing_agent, loan_id=history.pk, on=on).pk == history.pk
    with pytest.raises(LoanNotFound):
        loan_with_due_get(user=other_borrower.user, loan_id=history.pk, on=on)


@pytest.mark.parametrize("loan_id", ["missing", "anonymous"])
def test_no_loan_or_no_user_is_not_found(history, servicing_agent, loan_id):
    user = AnonymousUser() if loan_id == "anonymous" else servicing_agent
    target = history.pk if loan_id == "anonymous" else history.pk + 1000
    with pytest.raises(LoanNotFound):
        loan_with_due_get(user=user, loan_id=target, on=date(2026, 2, 15))
    with pytest.raises(LoanNotFound):
        loan_get_for_write(user=user, loan_id=target)


def test_the_loan_page_read_is_one_query(history, borrower, django_assert_num_queries):
    user = borrower.user
    loan_with_due_get(user=user, loan_id=history.pk, on=date(2026, 2, 15))  # permission cache
    with django_assert_num_queries(1):
        loan = loan_with_due_get(user=user, loan_id=history.pk, on=date(2026, 2, 15))
        assert loan.borrower.user_id == user.pk  # joined, not read again


def test_a_loan_reference_reads_nothing_until_a_field_is_used(history, django_assert_num_queries):
    # Given a reference to a stored loan (what a staff payment hands to payment_post)
    with django_assert_num_queries(0):
        ref = loan_ref(history.pk)
        assert ref.pk == history.pk

    # Then a field read loads it from the database, never a model default in its place
    stored = Loan.objects.get(pk=history.pk)
    with django_assert_num_queries(1):
        assert ref.principal_balance == stored.principal_balance
    assert ref.principal_balance != Loan._meta.get_field("principal_balance").get_default()
    assert (ref.status, ref.loan_number) == (stored.status, stored.loan_number)
