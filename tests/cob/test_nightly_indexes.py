"""The tables close of business writes every night carry no index another already gives.

Each index is written again for each row inserted, and for each installment whose status
changes (not a HOT update: the unpaid index's condition reads status). A foreign key's own
index is redundant where a composite index leads with the same column, which serves a lookup
by that column alone."""

from __future__ import annotations

import pytest
from django.db import connection

from collections_app.models import CaseEvent
from servicing.models import (
    DelinquencyHistory,
    Installment,
    LoanEvent,
    Notification,
    Statement,
)

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
