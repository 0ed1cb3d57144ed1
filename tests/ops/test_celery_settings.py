"""The Celery settings at-least-once delivery rests on (README "Reliability")."""

from __future__ import annotations

from lendcore.celery import app
from origination.tasks import _retry_base_seconds, _retry_max


def test_tasks_are_acknowledged_late_and_handed_back_when_their_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_the_visibility_timeout_outlasts_the_longest_retry_countdown():
    """Redis gives an unacknowledged message (a countdown waiting in a worker counts) to another
    worker after the timeout: shorter than a countdown, the task would run twice."""
    longest_bureau_retry = _retry_base_seconds() * 2 ** (_retry_max() - 1)
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > longest_bureau_retry
