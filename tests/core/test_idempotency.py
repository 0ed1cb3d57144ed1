import threading

import pytest
from django.db import connection

from lendcore.core.idempotency import IdempotencyKeyReused, idempotent_execute
from lendcore.core.models import IdempotencyRecord
from lendcore.errors import Conflict, ValidationFailed


class _Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return 201, {"id": self.calls}


@pytest.mark.django_db
def test_same_key_same_body_returns_first_answer_once():
    execute = _Counter()
    first = idempotent_execute(scope="s", key="k1", user_id=None, payload={"a": 1}, execute=execute)
    again = idempotent_execute(scope="s", key="k1", user_id=None, payload={"a": 1}, execute=execute)
    assert execute.calls == 1
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"id": 1}, True)


@pytest.mark.django_db
def test_same_key_different_body_is_422_and_runs_nothing():
    execute = _Counter()
    idempotent_execute(scope="s", key="k1", user_id=None, payload={"a": 1}, execute=execute)
    with pytest.raises(IdempotencyKeyReused) as exc_info:
        idempotent_execute(scope="s", key="k1", user_id=None, payload={"a": 2}, execute=execute)
    assert exc_info.value.http_status == 422
    assert execute.calls == 1


@pytest.mark.django_db
def test_keys_are_separate_per_scope():
    execute = _Counter()
    idempotent_execute(scope="a", key="k", user_id=None, payload={}, execute=execute)
    idempotent_execute(scope="b", key="k", user_id=None, payload={}, execute=execute)
    assert execute.calls == 2


@pytest.mark.django_db
def test_an_application_error_is_the_stored_answer():
    def refuse():
        raise ValidationFailed.for_fields({"amount": ["Must be positive."]})

    first = idempotent_execute(scope="s", key="k", user_id=None, payload={}, execute=refuse)
    again = idempotent_execute(scope="s", key="k", user_id=None, payload={}, execute=_Counter())
    assert first.status == again.status == 400
    assert again.body["extra"]["fields"] == {"amount": ["Must be positive."]}


@pytest.mark.django_db
def test_an_unexpected_failure_forgets_the_key():
    def crash():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        idempotent_execute(scope="s", key="k", user_id=None, payload={}, execute=crash)
    assert not IdempotencyRecord.objects.exists()
    result = idempotent_execute(scope="s", key="k", user_id=None, payload={}, execute=_Counter())
    assert result.status == 201


@pytest.mark.django_db
def test_a_retry_while_the_first_still_runs_is_409_after_waiting():
    IdempotencyRecord.objects.create(scope="s", key="k", request_hash="x")
    from lendcore.core.idempotency import request_fingerprint

    IdempotencyRecord.objects.filter(key="k").update(request_hash=request_fingerprint({}))
    with pytest.raises(Conflict):
        idempotent_execute(
            scope="s", key="k", user_id=None, payload={}, execute=_Counter(), wait_seconds=0.1
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once_and_answer_the_same():
    execute_calls = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    results = []

    def slow_execute():
        with lock:
            execute_calls.append(1)
        threading.Event().wait(0.2)
        return 201, {"posted": True}

    def worker():
        try:
            barrier.wait()
            results.append(
                idempotent_execute(
                    scope="s", key="same", user_id=None, payload={"x": 1}, execute=slow_execute
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(execute_calls) == 1
    assert len(results) == 8
    assert {(r.status, r.body["posted"]) for r in results} == {(201, True)}
    assert sum(not r.replayed for r in results) == 1
