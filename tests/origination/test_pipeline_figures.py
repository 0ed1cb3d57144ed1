"""The dashboard's pipeline figures (origination.selectors.pipeline_figures): approval rate
and median time to decision over applications decided in a window, worked out by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from origination.models import Application
from origination.selectors import pipeline_figures


def _decided(make_application, last4: str, status: str, *, seconds: int, days_ago: int = 1):
    application = make_application(last4, with_documents=False)
    submitted = timezone.now() - timedelta(days=days_ago)
    Application.objects.filter(pk=application.pk).update(
        status=status, submitted_at=submitted, decided_at=submitted + timedelta(seconds=seconds)
    )


def test_approval_rate_and_median_time_to_decision(make_application):
    _decided(make_application, "0001", "approved", seconds=60)
    _decided(make_application, "0002", "disbursed", seconds=180)
    _decided(make_application, "0003", "declined", seconds=120)
    _decided(make_application, "0004", "referred", seconds=30)  # decided, not approved yet
    _decided(make_application, "0005", "declined", seconds=10, days_ago=40)  # outside
    make_application("0006", with_documents=False)  # a draft: never decided

    figures = pipeline_figures(since=timezone.now() - timedelta(days=30))

    assert (figures["approved"], figures["declined"]) == (2, 1)
    assert figures["approval_rate"] == Decimal("66.67")
    assert figures["median_seconds_to_decision"] == 90  # of 30, 60, 120 and 180


def test_nothing_decided(db):
    figures = pipeline_figures(since=timezone.now())

    assert figures["approval_rate"] is None
    assert figures["median_seconds_to_decision"] is None
