"""The staff "Close of business" page in a real browser: a running run's progress updates
by polling, then an admin runs the day and sees it in the history."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from servicing.models import CobRun
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lendcore-demo"


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_admin_sees_progress_then_runs_the_day(page, admin_user, borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    board_loan(borrower=borrower, application_ref="E2E-COB")
    business_date_set(business_date=date(2026, 1, 31), acting_user=None)
    # Given a run of 2026-01-30 on the workers, 1 of 3 partitions done
    running = CobRun.objects.create(
        business_date=date(2026, 1, 30),
        mode="celery",
        partitions_total=3,
        partitions_done=1,
        loans_total=3,
        loans_done=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    _sign_in(page, admin_user.username)
    page.get_by_role("navigation", name="Staff").get_by_role(
        "link", name="Close of business"
    ).click()
    expect(page.get_by_role("heading", name="Close of business", exact=True)).to_be_visible()
    progress = page.locator("#cob-progress")
    expect(progress).to_contain_text("Partitions 1 / 3")
    expect(page.get_by_role("button", name=re.compile("Run close of business"))).to_be_disabled()

    # When the workers finish partitions, the page follows by itself (htmx polling)
    CobRun.objects.filter(pk=running.pk).update(partitions_done=2, loans_done=2)
    expect(progress).to_contain_text("Partitions 2 / 3")
    CobRun.objects.filter(pk=running.pk).update(
        partitions_done=3, loans_done=3, status="succeeded", finished_at=timezone.now()
    )
    expect(progress).not_to_contain_text("Partitions")

    # Then the admin runs the business date and sees it in the history
    page.reload()
    page.get_by_role("button", name="Run close of business for 2026-01-31").click()
    expect(page.get_by_text("Close of business for 2026-01-31 finished")).to_be_visible()
    run = page.locator("article.cob-run").first
    expect(run).to_contain_text("2026-01-31")
    expect(run).to_contain_text("Succeeded")
    expect(run.get_by_role("table")).to_contain_text("Accrual")
    expect(page.get_by_text(re.compile("Business date 2026-02-01"))).to_be_visible()
