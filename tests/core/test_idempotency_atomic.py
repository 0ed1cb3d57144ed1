"""`idempotent_execute_atomic`: the answer is stored in the work's own transaction."""

import threading
import uuid

import pytest
from django.db import connection, transaction

from lendcore.core.idempotency import IdempotencyKeyReused, idempotent_execute_atomic
from lendcore.core.models import IdempotencyRecord
from lendcore.errors import ValidationFailed


class _Work:
    """Work in a transaction of its own: writes a marker row, then records its answer."""

    def __init__(self, *, fail_with: BaseException | None = None, pause: float = 0.0):
        self.calls = 0
        self.fail_with = fail_with
        self.pause = pause

    def __call__(self, claim):
        self.calls += 1
        with transaction.atomic(durable=True):
            IdempotencyRecord.objects.create(scope="work", key=str(uuid.uuid4()), request_hash="")
            if self.fail_with is not None:
                raise self.fail_with
            if self.pause:
                threading.Event().wait(self.pause)
            claim.record(201, {"done": True})


def _markers():
    return IdempotencyRecord.objects.filter(scope="work").count()


def _run(execute, payload=None, key="k"):
    return idempotent_execute_atomic(
        scope="s", key=key, user_id=None, payload=payload or {"a": 1}, execute=execute
    )


@pytest.mark.django_db
def test_same_key_same_body_answers_the_first_and_the_retry_rolls_back():
    work = _Work()
    first = _run(work)
    again = _run(work)

    assert (first.status, first.body, first.replayed) == (201, {"done": True}, False)
    assert (again.status, again.body, again.replayed) == (201, {"done": True}, True)
    assert _markers() == 1  # the retry's work rolled back with its refused answer
    assert IdempotencyRecord.objects.get(scope="s").state == IdempotencyRecord.State.DONE


@pytest.mark.django_db
def test_same_key_different_body_is_422():
    _run(_Work())
    with pytest.raises(IdempotencyKeyReused):
        _run(_Work(), payload={"a": 2})
    assert _markers() == 1


@pytest.mark.django_db
def test_an_application_error_is_stored_and_the_work_rolled_back():
    refused = _Work(fail_with=ValidationFailed.for_fields({"amount": ["Must be positive."]}))
    first = _run(refused)
    again = _run(_Work())

    assert first.status == again.status == 400
    assert again.replayed
    assert again.body["extra"]["fields"] == {"amount": ["Must be positive."]}
    assert _markers() == 0


@pytest.mark.django_db
def test_an_unexpected_failure_stores_nothing_and_frees_the_key():
    with pytest.raises(RuntimeError):
        _run(_Work(fail_with=RuntimeError("boom")))
    assert not IdempotencyRecord.objects.exists()

    assert _run(_Work()).status == 201
    assert _markers() == 1


@pytest.mark.django_db(transaction=True)
def test_the_answer_must_be_recorded_inside_the_work_transaction():
    def outside(claim):
        claim.record(201, {})

    with pytest.raises(RuntimeError):
        _run(outside)

    def silent(claim):
        with transaction.atomic():
            pass

    with pytest.raises(RuntimeError):
        _run(silent, key="k2")
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_commit_once_and_answer_the_same():
    work = _Work(pause=0.2)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(_run(work))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len(results) == 8
    assert {(r.status, r.body["done"]) for r in results} == {(201, True)}
    assert sum(not r.replayed for r in results) == 1
    assert _markers() == 1
