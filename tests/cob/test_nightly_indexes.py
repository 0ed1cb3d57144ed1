"""The tables close of business writes every night, and those every payment writes, carry no
index another already gives.

Each index is written again for each row inserted, and for each installment whose status
changes (not a HOT update: the unpaid index's condition reads status). A foreign key's own
index is redundant where a composite index leads with the same column, which serves a lookup
by that column alone."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from collections_app.models import CaseEvent
from servicing.models import (
    UNPAID,
    DelinquencyHistory,
    Installment,
    LoanEvent,
    Notification,
    Payment,
    PaymentApplication,
    Statement,
)
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db

# (model, column): each is the leading column of a composite index of its table
LED_BY_A_COMPOSITE = [
    (Installment, "loan_id"),
    (Installment, "schedule_id"),
    (Notification, "installment_id"),
    (Statement, "loan_id"),
    (DelinquencyHistory, "loan_id"),
    (LoanEvent, "loan_id"),
    (CaseEvent, "case_id"),
    # written by every payment
    (Payment, "loan_id"),
    (PaymentApplication, "loan_id"),
]


def _indexes(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        spec["columns"]
        for spec in constraints.values()
        if (spec["index"] or spec["unique"]) and not spec["primary_key"]
    ]


@pytest.mark.parametrize(
    ("model", "column"), LED_BY_A_COMPOSITE, ids=lambda v: getattr(v, "__name__", v)
)
def test_a_foreign_key_led_by_a_composite_index_has_none_of_its_own(model, column):
    indexes = _indexes(model._meta.db_table)
    assert any(len(cols) > 1 and cols[0] == column for cols in indexes), indexes
    assert [column] not in indexes


def test_no_installment_index_holds_the_status_the_night_changes():
    """A due or overdue transition writes status alone: a HOT update on PostgreSQL (no index
    written, the row version kept on its page) while no index, nor an index's condition,
    reads status and the page has room (the table's fillfactor)."""
    table = Installment._meta.db_table
    assert all("status" not in columns for columns in _indexes(table))
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
            [table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        options = cursor.fetchone()[0]
    assert any("WHERE (paid_on IS NULL)" in d for d in definitions), definitions
    assert not any("status" in d for d in definitions), definitions
    assert "fillfactor=90" in options


@pytest.mark.parametrize(
    ("status", "paid_on"),
    [("paid", None), ("due", date(2026, 2, 14)), ("partially_paid", date(2026, 2, 14))],
)
def test_paid_on_is_set_exactly_when_the_installment_is_paid(borrower, status, paid_on):
    """The unpaid index and every query naming it (`UNPAID`) read paid_on for "not paid"."""
    loan = board_loan(borrower=borrower, application_ref="PAID-ON", disbursed_on=date(2026, 1, 14))
    installment = Installment.objects.filter(loan=loan).order_by("number").first()
    assert (installment.status == "paid") == (installment.paid_on is not None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Installment.objects.filter(pk=installment.pk).update(status=status, paid_on=paid_on)
    assert Installment.objects.filter(UNPAID, pk=installment.pk).exists()
