"""Which loans a user may see, and the one-loan reads of every per-loan endpoint.

Staff who may read loans (the policy table's `view_loans`) see every loan; a borrower only
theirs; anyone else, other staff included, nothing. A loan that exists but is not visible
answers 404, as one that does not exist.

The reads of a single loan are plain SQL, each one statement built once per process: the
ORM's queryset for the loan page (three annotated subqueries) cost Django ten times more
CPU to build and compile than PostgreSQL spent running it, on every loan request.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import QuerySet

from lendcore.accounts.models import Borrower
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import borrower_for_user, user_can, user_is_staff_member
from lendcore.core.sqlrows import execute, select_columns, select_model_pairs, sql_date, sql_money

from .errors import ErrorCode, LoanNotFound
from .models import Installment, Loan, ScheduleVersion


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def loans_visible_to(user) -> QuerySet[Loan]:
    """The loans `user` may see, their borrowers joined."""
    qs = Loan.objects.select_related("borrower")
    if user_is_staff_member(user):
        return qs if user_can(user, Action.READ_LOAN) else qs.none()
    borrower = borrower_for_user(user)
    if borrower is None:
        return qs.none()
    return qs.filter(borrower=borrower)


def _visible_clause(user) -> tuple[str, list[int]] | None:
    """The WHERE condition on the borrower `b` that limits a loan read to what `user` may
    see (with its parameters), or None when `user` may see no loan at all."""
    if user_is_staff_member(user):
        return ("", []) if user_can(user, Action.READ_LOAN) else None
    if not user.is_authenticated:
        return None
    return " AND b.user_id = %s", [user.pk]


# What is left to pay on installment `i` (what `loans_with_due` computes in the ORM).
_REMAINING = (
    "(i.principal_due + i.interest_due + i.fee_due"
    " - i.principal_paid - i.interest_paid - i.fee_paid - i.cancelled)"
)


@lru_cache(maxsize=4)
def _loan_with_due_sql(vendor: str, borrower_only: bool) -> str:
    """The loan, its borrower and the three schedule figures of `loans_with_due`, over the
    current schedule's unpaid installments (the `installment_unpaid_due` index)."""
    unpaid = (
        f"FROM {_table(Installment)} i JOIN {_table(ScheduleVersion)} v ON v.id = i.schedule_id "
        "WHERE i.loan_id = l.id AND v.is_current = %s AND i.paid_on IS NULL"
    )
    return (
        f"SELECT {select_columns(Loan, 'l')}, {select_columns(Borrower, 'b')}, "  # noqa: S608
        f"(SELECT SUM{_REMAINING} {unpaid} AND i.due_date < %s), "
        f"(SELECT i.due_date {unpaid} AND i.due_date >= %s ORDER BY i.due_date LIMIT 1), "
        f"(SELECT {_REMAINING} {unpaid} AND i.due_date >= %s ORDER BY i.due_date LIMIT 1) "
        f"FROM {_table(Loan)} l JOIN {_table(Borrower)} b ON b.id = l.borrower_id "
        "WHERE l.id = %s" + (" AND b.user_id = %s" if borrower_only else "")
    )


def loan_with_due_get(*, user, loan_id: int, on: date) -> Loan:
    """The loan `loan_id` if `user` may see it (else 404), its borrower loaded, annotated
    as `loans_with_due(..., on=on)` annotates: `past_due_amount`,
    `next_installment_due_date` and `next_installment_amount`. One SQL query."""
    visible = _visible_clause(user)
    if visible is None:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    condition, extra = visible
    sql = _loan_with_due_sql(connection.vendor, bool(condition))
    params = [True, on, True, on, True, on, loan_id, *extra]
    rows = select_model_pairs(Loan, Borrower, sql, params)
    if not rows:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    found, borrower, (past_due, next_date, next_amount) = rows[0]
    loan = cast(Any, found)  # a Loan, with the three figures set on it as annotations
    Loan.borrower.field.set_cached_value(loan, borrower)
    loan.past_due_amount = sql_money(past_due)
    loan.next_installment_due_date = sql_date(next_date)
    loan.next_installment_amount = sql_money(next_amount)
    return loan


def loan_get_for_write(*, user, loan_id: int) -> Loan:
    """The loan, with only its id and borrower loaded, if `user` may see it; else 404. The
    plain visibility check of a write, which locks and reads the loan itself: one short
    SQL query, without the schedule figures of `loan_with_due_get`."""
    visible = _visible_clause(user)
    if visible is None:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    condition, extra = visible
    sql = (
        f"SELECT l.id, l.borrower_id FROM {_table(Loan)} l "  # noqa: S608
        f"JOIN {_table(Borrower)} b ON b.id = l.borrower_id WHERE l.id = %s{condition}"
    )
    with connection.cursor() as cursor:
        execute(cursor, sql, [loan_id, *extra])
        row = cursor.fetchone()
    if row is None:
        raise LoanNotFound("No such loan.", code=ErrorCode.LOAN_NOT_FOUND)
    return Loan.from_db(connection.alias, ["id", "borrower_id"], row)


def loan_ref_for_write(*, user, loan_id: int) -> Loan:
    """For a write whose service locks the loan first (and answers 404 when there is none):
    the loan by reference (its id only, not read) for a staff member whose role may read
    loans, who sees every loan; else `loan_get_for_write` (404 unless visible). Saves a
    staff payment the query that only checks the loan exists before its lock reads it."""
    if user_is_staff_member(user) and user_can(user, Action.READ_LOAN):
        return loan_ref(loan_id)
    return loan_get_for_write(user=user, loan_id=loan_id)


def loan_ref(loan_id: int) -> Loan:
    """A loan by its id alone, not read: every other field is deferred, so that a read of one
    loads it from the database (`Loan(pk=...)` would answer the model's defaults), and no
    field's default is computed (that cost a payment request 2 % of its CPU)."""
    return Loan.from_db(DEFAULT_DB_ALIAS, ["id"], [loan_id])
