"""`lendcore.core.write_batch`: consecutive writes held and sent as one statement.

What the database ends up with must be exactly what the same writes sent one by one leave:
the tests check the rows, the number of statements, and where an error surfaces."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from lendcore.core.idempotency import IdempotencyClaim, idempotent_execute_atomic
from lendcore.core.models import IdempotencyRecord
from lendcore.core.sqlrows import insert_row, insert_values, model_values, update_row
from lendcore.core.write_batch import coalesced_writes, reservation
from lendcore.webhooks.models import Event, event_uid


def _record(key: str, scope: str = "s") -> IdempotencyRecord:
    return IdempotencyRecord(scope=scope, key=key, request_hash="h")


def _event(kind: str) -> dict:
    return {"uid": event_uid(), "type": kind, "payload": {"n": 1}}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writes_in_a_row_go_out_as_one_statement_at_the_end_of_the_block():
    other = _record("b")
    insert_row(other)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        with coalesced_writes() as writes:
            # a key drawn by a read made anyway: the row can wait
            with connection.cursor() as cursor:
                rsv = reservation(writes, IdempotencyRecord)
                cursor.execute(f"SELECT 1, {rsv.sql}")
                rsv.fill(cursor.fetchone()[1:])
            first = _record("a")
            insert_row(first)
            assert first.pk is not None  # known at once, written later
            insert_values(Event, _event("t.one"))
            other.response_status = 201
            update_row(other, ["response_status"])
            sent = len(captured.captured_queries)
        assert sent == 1  # the read only
        assert len(captured.captured_queries) == 2  # + the held writes, together
    assert IdempotencyRecord.objects.filter(pk=first.pk, key="a").exists()
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"a", "b"}
    other.refresh_from_db()
    assert other.response_status == 201
    assert Event.objects.filter(type="t.one").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_any_other_statement_sends_the_held_writes_first_and_sees_them():
    with transaction.atomic(), coalesced_writes():
        insert_values(Event, _event("t.read"))
        # an ORM read: the held INSERT goes out before it, so the read finds the row
        assert Event.objects.filter(type="t.read").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_write_to_a_held_row_goes_out_after_it():
    record = _record("u")
    insert_row(record)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured, coalesced_writes():
        record.response_status = 201
        update_row(record, ["response_status"])
        # the same row again: in one statement it would not see the first UPDATE
        record.response_status, record.state = 409, IdempotencyRecord.State.DONE
        update_row(record, ["response_status", "state"])
    assert len(captured.captured_queries) == 2
    record.refresh_from_db()
    assert (record.response_status, record.state) == (409, IdempotencyRecord.State.DONE)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_of_one_table_keep_their_order_of_keys():
    # the CTEs of one statement run in no set order: a second INSERT into a table goes after
    with transaction.atomic(), CaptureQueriesContext(connection) as captured, coalesced_writes():
        insert_values(Event, _event("t.first"))
        insert_values(*model_values(_record("other table")))
        insert_values(Event, _event("t.second"))
        insert_values(Event, _event("t.third"))
    assert len(captured.captured_queries) == 3
    kinds = list(Event.objects.order_by("pk").values_list("type", flat=True))
    assert kinds == ["t.first", "t.second", "t.third"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_held_write_that_fails_fails_the_block_and_nothing_commits():
    insert_row(_record("taken"))

    def work() -> None:
        with transaction.atomic(), coalesced_writes():
            insert_values(Event, _event("t.lost"))
            insert_values(*model_values(_record("taken")))  # the unique key: raised at the end

    with pytest.raises(IntegrityError):
        work()
    assert not Event.objects.filter(type="t.lost").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_savepoint_sees_its_own_held_write_fail_and_the_rest_goes_on():
    insert_row(_record("dup"))
    with transaction.atomic(), coalesced_writes():
        insert_values(Event, _event("t.kept"))
        with pytest.raises(IntegrityError), transaction.atomic():
            insert_values(*model_values(_record("dup")))
        insert_values(*model_values(_record("fresh")))
    assert Event.objects.filter(type="t.kept").count() == 1
    assert IdempotencyRecord.objects.filter(key="fresh").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_exception_out_of_the_block_drops_the_held_writes_and_rolls_back():
    def work() -> None:
        with coalesced_writes():
            insert_values(Event, _event("t.dropped"))
            raise ValueError("the work failed")

    with transaction.atomic():
        with pytest.raises(ValueError, match="the work failed"):
            work()
        assert connection.needs_rollback  # nothing may commit without the dropped writes
        transaction.set_rollback(False)  # what a caller catching the error would have to do
    assert not Event.objects.filter(type="t.dropped").exists()


@pytest.mark.sqlite
@pytest.mark.django_db
def test_elsewhere_than_postgresql_nothing_waits(django_assert_num_queries):
    with transaction.atomic(), coalesced_writes() as writes:
        assert writes is None
        with django_assert_num_queries(1):
            insert_values(Event, _event("t.now"))
        assert Event.objects.filter(type="t.now").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_answer_held_with_the_work_that_finds_its_key_taken_replays_the_first():
    def work(claim: IdempotencyClaim, marker: str) -> None:
        with transaction.atomic(durable=True), coalesced_writes():
            insert_values(Event, _event(marker))
            claim.record(201, {"marker": marker})  # held: the conflict comes at the end

    first = idempotent_execute_atomic(
        scope="pay", key="k1", user_id=None, payload={"a": 1}, execute=lambda c: work(c, "t.1")
    )
    again = idempotent_execute_atomic(
        scope="pay", key="k1", user_id=None, payload={"a": 1}, execute=lambda c: work(c, "t.2")
    )
    assert (first.status, first.body, first.replayed) == (201, {"marker": "t.1"}, False)
    assert (again.status, again.body, again.replayed) == (201, {"marker": "t.1"}, True)
    assert not Event.objects.filter(type="t.2").exists()  # the second work rolled back
