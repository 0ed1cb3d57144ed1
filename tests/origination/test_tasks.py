"""Celery tasks (eager): offer expiry, decisions waiting for an active rule set or a bureau."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from origination import services
from origination.models import Application, Offer, RuleSet
from origination.tasks import offers_expire_task

pytestmark = pytest.mark.django_db


def test_offer_expiry_task(decided):
    application = decided("9999")
    Offer.objects.filter(application=application).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert offers_expire_task.delay().get() == 1
    application.refresh_from_db()
    assert application.status == Application.Status.EXPIRED


def test_periodic_tasks_are_scheduled():
    import importlib

    from django.apps import apps

    # The data migration's rows (run again: a transactional test may have flushed them)
    importlib.import_module("origination.migrations.0002_periodic_tasks").forwards(apps, None)
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"origination.offers_expire", "origination.decisions_retry_waiting"} <= names


def test_without_an_active_rule_set_the_application_waits(decided, product):
    RuleSet.objects.filter(product=product).update(status="retired")
    application = decided("9999")
    assert application.status == Application.Status.IN_REVIEW
    assert application.status_reason == "no_active_rule_set"


def test_identity_provider_down_waits_and_retries(decided, monkeypatch):
    from origination.adapters import identity
    from origination.errors import IdentityUnavailable

    def down(self, subject):
        raise IdentityUnavailable("down")

    monkeypatch.setattr(identity.SandboxIdentity, "verify", down)
    application = decided("9999")
    assert application.status_reason == "identity_unavailable"
    monkeypatch.undo()
    result = services.application_decide(application_id=application.pk)
    assert result.status == Application.Status.APPROVED
