"""Dunning by close of business: the default rules (e-mail at 3 days past due, SMS at 10, a
PDF letter at 30) go out on the right days, exactly once per loan, rule and day, and never
while the debt is disputed, after a cease-communication request or on an opted-out channel
(each skip recorded with its reason on the case)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from collections_app.dunning import dunning_queue, rule_due
from collections_app.models import (
    CaseEvent,
    CollectionCase,
    ContactPreference,
    DunningNotice,
    DunningRule,
    DunningTemplate,
)
from collections_app.sms import RecordingSms
from servicing.cob.runner import cob_close_through
from servicing.services import business_date_set

from .conftest import FIRST_DUE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    RecordingSms.outbox.clear()


def _close(through: date, capture) -> None:
    with capture(execute=True):
        cob_close_through(through=through)


def _dunning(outbox) -> list:
    """The e-mails of dunning (servicing also sends statements and reminders): the default
    template's subject ("... is overdue") or the test's required notice."""
    return [
        m for m in outbox if m.subject.endswith(" is overdue") or m.subject == "Validation notice"
    ]


def _case(loan) -> CollectionCase:
    return CollectionCase.objects.get(loan=loan)


def test_the_default_rules_are_seeded():
    rules = DunningRule.objects.filter(active=True).order_by("dpd_from")
    assert [(r.channel, r.dpd_from, r.dpd_to) for r in rules] == [
        ("email", 3, None),
        ("sms", 10, None),
        ("letter", 30, None),
    ]


def test_rule_days_by_range_and_cadence():
    once = DunningRule(dpd_from=3)
    assert [d for d in range(1, 40) if rule_due(once, d)] == [3]
    weekly = DunningRule(dpd_from=5, dpd_to=26, cadence_days=7)
    assert [d for d in range(1, 40) if rule_due(weekly, d)] == [5, 12, 19, 26]


def test_dunning_goes_out_on_the_right_days_exactly_once(
    board, borrower, mailoutbox, django_capture_on_commit_callbacks
):
    borrower.phone = "+15555550100"
    borrower.save(update_fields=["phone"])
    loan = board("dun")
    business_date_set(business_date=FIRST_DUE, acting_user=None)

    # day 2 past due: nothing; day 3: the e-mail
    _close(date(2026, 2, 16), django_capture_on_commit_callbacks)
    assert not DunningNotice.objects.exists()
    _close(date(2026, 2, 17), django_capture_on_commit_callbacks)
    notice = DunningNotice.objects.get()
    assert (notice.channel, notice.status, notice.business_date) == (
        "email",
        "sent",
        date(2026, 2, 17),
    )
    [mail] = _dunning(mailoutbox)
    assert mail.to == [borrower.email]
    assert mail.subject == f"Your payment on loan {loan.loan_number} is overdue"
    assert "3 days past due" in mail.body
    event = CaseEvent.objects.get(kind="dunning")
    assert event.case_id == _case(loan).pk
    assert event.data["status"] == "queued"

    # day 10: the SMS, through the recording backend
    _close(date(2026, 2, 24), django_capture_on_commit_callbacks)
    sms = DunningNotice.objects.get(channel="sms")
    assert sms.status == "sent"
    assert sms.business_date == date(2026, 2, 24)
    assert RecordingSms.outbox == [("+15555550100", RecordingSms.outbox[0][1])]
    assert loan.loan_number in RecordingSms.outbox[0][1]

    # day 30: the letter, printed to PDF and stored
    _close(date(2026, 3, 16), django_capture_on_commit_callbacks)
    letter = DunningNotice.objects.get(channel="letter")
    assert letter.status == "sent", letter.error
    assert letter.document.endswith(".pdf")
    assert default_storage.exists(letter.document)
    with default_storage.open(letter.document) as stored:
        assert stored.read(5) == b"%PDF-"
    assert DunningNotice.objects.count() == 3
    assert len(_dunning(mailoutbox)) == 1  # one dunning e-mail only, on day 3

    # the same day again adds nothing; the database refuses a second notice too
    assert dunning_queue(loan.pk, loan.pk, date(2026, 3, 16)) == 0
    assert DunningNotice.objects.count() == 3
    with pytest.raises(IntegrityError), transaction.atomic():
        DunningNotice.objects.create(
            loan=loan,
            case=_case(loan),
            rule=letter.rule,
            business_date=letter.business_date,
            channel="letter",
            status="queued",
            created_at=letter.created_at,
        )


def test_a_dispute_pauses_dunning_until_resolved(
    board, collector, mailoutbox, django_capture_on_commit_callbacks
):
    loan = board("disputed")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(date(2026, 2, 15), django_capture_on_commit_callbacks)
    CollectionCase.objects.filter(loan=loan).update(disputed=True, disputed_on=date(2026, 2, 15))
    _close(date(2026, 2, 17), django_capture_on_commit_callbacks)
    notice = DunningNotice.objects.get()
    assert (notice.status, notice.reason) == ("skipped", "disputed")
    assert _dunning(mailoutbox) == []
    assert CaseEvent.objects.get(kind="dunning").data["reason"] == "disputed"


def test_cease_communication_and_opt_outs_stop_dunning_but_not_required_notices(
    board, borrower, mailoutbox, django_capture_on_commit_callbacks
):
    ContactPreference.objects.create(
        borrower=borrower,
        time_zone="America/Chicago",
        cease_communication=True,
        cease_communication_on=date(2026, 2, 1),
        letter_opt_out=True,
    )
    template = DunningTemplate.objects.create(
        code="validation", name="Validation notice", subject="Validation notice", body="Owed."
    )
    DunningRule.objects.create(
        name="Required notice at 3",
        channel="email",
        template=template,
        dpd_from=3,
        required_notice=True,
    )
    loan = board("cease")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(date(2026, 2, 17), django_capture_on_commit_callbacks)
    by_rule = {n.rule.name: (n.status, n.reason) for n in DunningNotice.objects.filter(loan=loan)}
    assert by_rule == {
        "E-mail at 3 days past due": ("skipped", "cease_communication"),
        "Required notice at 3": ("sent", ""),
    }
    assert [m.subject for m in _dunning(mailoutbox)] == ["Validation notice"]
    # without the cease request, the letter opt-out still holds
    ContactPreference.objects.filter(borrower=borrower).update(cease_communication=False)
    _close(date(2026, 3, 16), django_capture_on_commit_callbacks)
    letter = DunningNotice.objects.get(loan=loan, channel="letter")
    assert (letter.status, letter.reason) == ("skipped", "opted_out")


def test_the_case_page_shows_what_was_sent(
    client, collector, board, django_capture_on_commit_callbacks
):
    loan = board("shown")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(date(2026, 2, 17), django_capture_on_commit_callbacks)
    client.force_login(collector)
    html = client.get(f"/staff/collections/cases/{_case(loan).pk}/").content.decode()
    assert "E-mail at 3 days past due" in html
    assert "Sent" in html
