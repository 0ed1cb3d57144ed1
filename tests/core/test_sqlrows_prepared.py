"""`lendcore.core.sqlrows`: statements as server-side prepared statements on PostgreSQL, and
`select_models` building the same instances as the ORM."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from lendcore.core.models import IdempotencyRecord
from lendcore.core.sqlrows import (
    _prepared_form,
    execute,
    insert_row,
    insert_together,
    insert_values,
    model_values,
    select_columns,
    select_models,
    statement_text,
)
from lendcore.webhooks.models import Event, event_uid


def _prepared_on_server() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_prepared_form_numbers_the_placeholders_and_leaves_escapes_alone():
    name, prepare, call = _prepared_form("SELECT a FROM t WHERE b = %s AND c > %s")
    assert prepare == f"PREPARE {name} AS SELECT a FROM t WHERE b = $1 AND c > $2"
    assert call == f"EXECUTE {name}(%s, %s)"
    assert _prepared_form("SELECT 1")[2] == f"EXECUTE {_prepared_form('SELECT 1')[0]}"
    assert _prepared_form("SELECT a FROM t WHERE b LIKE '50%%' AND c = %s") is None


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_is_prepared_once_per_session_and_survives_a_rollback(settings):
    settings.DB_PREPARED_STATEMENTS = True
    sql = "SELECT %s::int + 1"
    name = _prepared_form(sql)[0]
    with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
        execute(cursor, sql, [1])
        assert cursor.fetchone() == (2,)
    # the PREPARE is not a query of the request; the EXECUTE is
    assert [q["sql"] for q in captured.captured_queries] == [f"EXECUTE {name}(1)"]
    assert name in _prepared_on_server()
    with transaction.atomic():
        insert_row(IdempotencyRecord(scope="s", key="k", request_hash=""))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(IdempotencyRecord(scope="s", key="k", request_hash=""))
    with connection.cursor() as cursor:
        execute(cursor, sql, [41])  # no second PREPARE (it would fail: the name exists)
        assert cursor.fetchone() == (42,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_session_prepares_again(settings):
    settings.DB_PREPARED_STATEMENTS = True
    sql = "SELECT %s::int * 2"
    with connection.cursor() as cursor:
        execute(cursor, sql, [2])
    connection.close()  # the next query opens a new session, with nothing prepared
    with connection.cursor() as cursor:
        execute(cursor, sql, [3])
        assert cursor.fetchone() == (6,)


@pytest.mark.postgres
@pytest.mark.django_db
def test_off_runs_plain_sql(settings):
    settings.DB_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
        execute(cursor, "SELECT %s::int - 1", [1])
        assert cursor.fetchone() == (0,)
    assert captured.captured_queries[0]["sql"] == "SELECT 1::int - 1"


@pytest.mark.django_db
def test_select_models_builds_what_the_orm_builds():
    record = IdempotencyRecord.objects.create(
        scope="s", key="k", request_hash="h", response_status=201, response_body={"id": 1}
    )
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    (found,) = select_models(
        IdempotencyRecord,
        f"SELECT {select_columns(IdempotencyRecord, 'r')} FROM {table} r WHERE r.id = %s",
        [record.pk],
    )
    expected = IdempotencyRecord.objects.get(pk=record.pk)
    for field in IdempotencyRecord._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.response_body == {"id": 1}  # JSON converted as the ORM converts it
    assert not found._state.adding


@pytest.mark.django_db
def test_update_many_writes_each_rows_fields_in_one_statement():
    from lendcore.core.sqlrows import update_many

    rows = [
        IdempotencyRecord.objects.create(
            key=f"k{n}", scope="s", request_hash="h", response_status=200, response_body={"n": n}
        )
        for n in range(3)
    ]
    for n, row in enumerate(rows):
        row.response_status = 201 + n
        row.response_body = {"n": n, "again": True}
    with CaptureQueriesContext(connection) as ctx:
        update_many(rows[:2], ["response_status", "response_body"])
    assert len(ctx.captured_queries) == 1
    stored = {r.key: (r.response_status, r.response_body) for r in IdempotencyRecord.objects.all()}
    assert stored == {
        "k0": (201, {"n": 0, "again": True}),
        "k1": (202, {"n": 1, "again": True}),
        "k2": (200, {"n": 2}),
    }


def test_statement_text_names_what_an_execute_runs():
    sql = 'INSERT INTO "t" ("a") VALUES (%s)'
    call = _prepared_form(sql)[2]
    assert statement_text(call % ("1",)) == sql
    assert statement_text("SELECT 1") == "SELECT 1"
    assert statement_text("EXECUTE lc_unknown(1)") == "EXECUTE lc_unknown(1)"


@pytest.mark.django_db
def test_insert_values_binds_as_the_orm_and_leaves_the_rest_to_the_database():
    # an outbox event: the payload through its JSON encoder (Decimal, dates), created_at from
    # its db_default, dispatched_at NULL; the same on SQLite and PostgreSQL
    uid = event_uid()
    with CaptureQueriesContext(connection) as captured:
        insert_values(
            Event,
            {
                "uid": uid,
                "type": "payment.posted",
                "loan_id": 7,
                "payload": {"amount": Decimal("1.10"), "on": date(2026, 1, 2)},
            },
        )
    assert len(captured) == 1
    event = Event.objects.get(uid=uid)
    assert (event.type, event.loan_id) == ("payment.posted", 7)
    assert event.payload == {"amount": "1.10", "on": "2026-01-02"}
    assert event.created_at is not None
    assert event.dispatched_at is None


@pytest.mark.django_db
def test_insert_together_writes_each_row_as_insert_row_would_in_one_statement_on_postgresql():
    user = get_user_model().objects.create_user(username="u", password="p")
    record = IdempotencyRecord(scope="s", key="k", request_hash="h", user=user)
    uid = event_uid()
    event = (Event, {"uid": uid, "type": "payment.posted", "loan_id": 3, "payload": {"a": 1}})
    with CaptureQueriesContext(connection) as captured:
        insert_together([model_values(record), event])
    assert len(captured) == (1 if connection.vendor == "postgresql" else 2)
    stored = IdempotencyRecord.objects.get(scope="s", key="k")
    assert (stored.request_hash, stored.user_id) == ("h", user.pk)
    assert stored.created_at is not None  # auto_now_add, through pre_save
    assert Event.objects.get(uid=uid).payload == {"a": 1}
