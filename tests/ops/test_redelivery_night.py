"""A closed night's tasks delivered again (a worker died before its ack): each partition, the
close, the reminders, the dunning notices (e-mail, SMS and printed letters) and the statement
PDFs. The second delivery posts, renders and sends nothing, and the ledger still balances."""

from __future__ import annotations

import pytest
from django.core import mail

from collections_app.models import DunningNotice, DunningRule
from collections_app.tasks import dunning_send_task
from lendcore.accounts.roles import Role
from lendcore.accounts.services import staff_user_create
from servicing.cob.runner import cob_run_start
from servicing.ledger import ledger_problems
from servicing.models import CobPartition, CobRun, Notification, Statement
from servicing.tasks import (
    cob_close_task,
    cob_partition_task,
    notifications_send_task,
    statements_render_task,
)
from tests.cob.scenario import build_book, snapshot

from .redelivery import deliver_twice

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_night(borrower, admin_user, django_capture_on_commit_callbacks, tmp_path, settings):
    """The COB acceptance's hand-built book, its night closed in-process with every effect
    run (reminders and notices sent, statements rendered). The default dunning e-mail and
    letter move to days past due the book's loans are at (1 and 31)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    DunningRule.objects.filter(channel="email").update(dpd_from=1)
    DunningRule.objects.filter(channel="letter").update(dpd_from=31)
    second = staff_user_create(
        username="t_admin2", password="lendcore-demo", role=Role.ADMIN, superuser=True
    )
    build_book(borrower, admin_user, second)
    with django_capture_on_commit_callbacks(execute=True):
        run = cob_run_start(trigger="test")
    assert run.status == CobRun.Status.SUCCEEDED, run.error
    return run


def _sent_state() -> dict:
    return {
        "mails": len(mail.outbox),
        "notifications": sorted(Notification.objects.values_list("pk", "status", "sent_at")),
        "notices": sorted(DunningNotice.objects.values_list("pk", "status", "sent_at", "document")),
        "statements": sorted(Statement.objects.values_list("pk", "pdf", "emailed_at")),
    }


def test_a_closed_nights_tasks_delivered_again_change_nothing(closed_night):
    # Given a closed night whose effects went out
    notifications = list(Notification.objects.values_list("pk", flat=True))
    notices = list(DunningNotice.objects.values_list("pk", flat=True))
    statements = list(Statement.objects.values_list("pk", flat=True))
    assert notifications, "the book's night should remind"
    assert statements, "the book's night should bill"
    assert set(DunningNotice.objects.values_list("channel", "status")) == {
        ("email", "sent"),
        ("letter", "sent"),
    }
    assert Notification.objects.exclude(status="sent").count() == 0
    assert Statement.objects.filter(pdf="").count() == 0
    before, sent_before = snapshot(), _sent_state()

    # When every task of the night is delivered again, twice
    for partition in CobPartition.objects.filter(run=closed_night):
        assert deliver_twice(cob_partition_task, closed_night.pk, partition.pk) == ("done", "done")
    assert deliver_twice(cob_close_task, closed_night.pk) == ("succeeded", "succeeded")
    assert deliver_twice(notifications_send_task, notifications) == (0, 0)
    assert deliver_twice(dunning_send_task, notices) == (0, 0)
    assert deliver_twice(statements_render_task, statements) == (0, 0)

    # Then nothing was posted, rendered or sent again
    assert snapshot() == before
    assert _sent_state() == sent_before
    assert ledger_problems() == []


def test_reminders_and_notices_still_queued_are_sent_once_over_two_deliveries(closed_night):
    """A worker killed before it sent: the redelivery sends; the one after it does not."""
    Notification.objects.update(status="queued", sent_at=None)
    DunningNotice.objects.filter(status="sent").update(status="queued", sent_at=None)
    queued_notices = DunningNotice.objects.filter(status="queued").count()
    mail.outbox.clear()

    sent = deliver_twice(
        notifications_send_task, list(Notification.objects.values_list("pk", flat=True))
    )
    noticed = deliver_twice(
        dunning_send_task, list(DunningNotice.objects.values_list("pk", flat=True))
    )

    assert sent == (Notification.objects.count(), 0)
    assert noticed == (queued_notices, 0)
    assert Notification.objects.exclude(status="sent").count() == 0
    assert len(mail.outbox) == Notification.objects.filter(channel="email").count() + (
        DunningNotice.objects.filter(channel="email", status="sent").count()
    )
