"""Dunning: close of business sends the messages of the dunning rules (e-mail, SMS, letters
as PDF) to the borrowers of open cases on the rules' days past due, after servicing's
reminders (it runs after collections_close in COB_EXTRA_STEPS).

`dunning_queue` (the COB step) writes one DunningNotice per loan, rule and day (a unique
constraint: exactly once, however often the day is closed), queued or skipped with the
reason `contact_rules.dunning_refusal` gives (open dispute, cease-communication,
opt-out, no address), and a CaseEvent for each; the queued ones are sent after commit by
the task `collections_app.tasks.dunning_send_task` (`dunning_send`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db.models import Q
from django.template import Context, Template
from django.utils import timezone
from django.utils.module_loading import import_string

from lendcore.core.pdf import render_pdf

from . import config, contact_rules, effects
from .models import CaseEvent, CollectionCase, DunningNotice, DunningRule

SMS_MAX = 320


def rule_due(rule: DunningRule, dpd: int) -> bool:
    """Whether `rule` sends on a loan `dpd` days past due: from `dpd_from` to `dpd_to`
    every `cadence_days` (no `dpd_to`, or no cadence: on `dpd_from` only)."""
    if dpd < rule.dpd_from:
        return False
    if rule.dpd_to is None or rule.cadence_days == 0:
        return dpd == rule.dpd_from
    return dpd <= rule.dpd_to and (dpd - rule.dpd_from) % rule.cadence_days == 0


def _recipient(channel: str, row: Mapping[str, Any]) -> str:
    if channel == "email":
        return row["loan__borrower__email"] or ""
    if channel == "sms":
        return row["loan__borrower__phone"] or ""
    return (
        f"{row['loan__borrower__first_name']} {row['loan__borrower__last_name']}".strip()
        or "Borrower"
    )


def _opted_out(channel: str, row: Mapping[str, Any]) -> bool:
    return bool(
        {
            "email": row["loan__borrower__email_opt_out"],
            "sms": row["loan__borrower__sms_opt_out"],
            "letter": row["loan__borrower__contact_preference__letter_opt_out"],
        }[channel]
    )


def _in_window(rule: DunningRule, row: Mapping[str, Any]) -> bool:
    """Whether a case row is one `rule` looks at: its days past due in the rule's window, of
    the rule's product and bucket if it names them."""
    return (
        rule.dpd_from <= row["dpd"] <= (rule.dpd_to or rule.dpd_from)
        and (not rule.product_code or row["loan__product_code"] == rule.product_code)
        and (not rule.bucket or row["bucket"] == rule.bucket)
    )


def dunning_queue(lo: int, hi: int, day: date) -> int:
    """COB step: the notices of loans [lo, hi] closed for `day`. One read of the open cases
    in any active rule's window and one of the day's notices already written, whatever the
    number of rules; one insert of notices and one of events. Returns the notices queued."""
    rules = list(DunningRule.objects.filter(active=True).order_by("pk"))
    if not rules:
        return 0
    now = timezone.now()
    notices: list[DunningNotice] = []
    windows = Q()
    for rule in rules:
        windows |= Q(dpd__gte=rule.dpd_from, dpd__lte=rule.dpd_to or rule.dpd_from)
    cases = list(
        CollectionCase.objects.filter(
            windows,
            status=CollectionCase.Status.OPEN,
            loan_id__gte=lo,
            loan_id__lte=hi,
            loan__last_closed_on=day,
            loan__status="active",
        )
        .order_by("pk")
        .values(
            "pk",
            "loan_id",
            "dpd",
            "bucket",
            "disputed",
            "loan__product_code",
            "loan__borrower__first_name",
            "loan__borrower__last_name",
            "loan__borrower__email",
            "loan__borrower__phone",
            "loan__borrower__email_opt_out",
            "loan__borrower__sms_opt_out",
            "loan__borrower__contact_preference__letter_opt_out",
            "loan__borrower__contact_preference__cease_communication",
        )
    )
    if not cases:
        return 0
    # a day closed again writes no notice twice (the unique constraint is the backstop)
    written = set(
        DunningNotice.objects.filter(
            business_date=day, loan_id__in=[row["loan_id"] for row in cases]
        ).values_list("loan_id", "rule_id")
    )
    for rule in rules:
        rows = [
            row
            for row in cases
            if _in_window(rule, row) and (row["loan_id"], rule.pk) not in written
        ]
        for row in rows:
            if not rule_due(rule, row["dpd"]):
                continue
            recipient = _recipient(rule.channel, row)
            reason = contact_rules.dunning_refusal(
                channel=rule.channel,
                disputed=row["disputed"],
                cease_communication=bool(
                    row["loan__borrower__contact_preference__cease_communication"]
                ),
                required_notice=rule.required_notice,
                opted_out=_opted_out(rule.channel, row),
                recipient=recipient,
            )
            notices.append(
                DunningNotice(
                    loan_id=row["loan_id"],
                    case_id=row["pk"],
                    rule=rule,
                    business_date=day,
                    channel=rule.channel,
                    status=DunningNotice.Status.SKIPPED if reason else DunningNotice.Status.QUEUED,
                    reason=reason or "",
                    recipient=recipient,
                    created_at=now,
                )
            )
    if not notices:
        return 0
    created = DunningNotice.objects.bulk_create(notices, batch_size=500)
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=notice.case_id,
                kind=CaseEvent.Kind.DUNNING,
                business_date=day,
                at=now,
                data={
                    "notice": notice.pk,
                    "rule": notice.rule.name,
                    "channel": notice.channel,
                    "status": notice.status,
                    "reason": notice.reason,
                },
            )
            for notice in created
        ],
        batch_size=500,
    )
    queued = [n.pk for n in created if n.status == DunningNotice.Status.QUEUED]
    if queued:
        effects.task_on_commit(effects.DUNNING_SEND, queued)
    return len(queued)


def _context(notice: DunningNotice) -> dict:
    case = notice.case
    return {
        "borrower": case.loan.borrower,
        "loan": case.loan,
        "case": case,
        "amount_past_due": case.amount_past_due,
        "dpd": case.dpd,
        "business_date": notice.business_date,
        "lender_name": "LendCore",
    }


def _letter_store(notice: DunningNotice, subject: str, body: str, context: dict) -> str:
    pdf = render_pdf(
        "collections/dunning_letter.html", context | {"subject": subject, "body": body}
    )
    name = (
        f"dunning/{notice.case.loan.loan_number}/"
        f"{notice.business_date:%Y-%m-%d}-rule{notice.rule_id}-{notice.pk}.pdf"
    )
    return default_storage.save(name, ContentFile(pdf))


def dunning_send(*, notice_ids: list[int]) -> int:
    """Send queued notices (idempotent: only `queued` ones; each marked sent or failed).
    E-mail through Django's mail, SMS through COLLECTIONS_SMS_BACKEND, letters printed to
    PDF and stored in the default storage (the notice keeps its name)."""
    sent = 0
    queued = (
        DunningNotice.objects.filter(pk__in=notice_ids, status=DunningNotice.Status.QUEUED)
        .select_related("rule__template", "case__loan__borrower")
        .order_by("pk")
    )
    for notice in queued:
        template = notice.rule.template
        context = _context(notice)
        subject = Template(template.subject).render(Context(context)).strip()
        body = Template(template.body).render(Context(context, autoescape=False)).strip()
        document = ""
        try:
            if notice.channel == "email":
                send_mail(subject, body, None, [notice.recipient])
            elif notice.channel == "sms":
                import_string(config.sms_backend())().send(notice.recipient, body[:SMS_MAX])
            else:
                document = _letter_store(notice, subject, body, context)
        except Exception as error:  # the outside world: record and go on
            DunningNotice.objects.filter(pk=notice.pk).update(
                status=DunningNotice.Status.FAILED, error=str(error)[:500]
            )
            continue
        DunningNotice.objects.filter(pk=notice.pk).update(
            status=DunningNotice.Status.SENT, sent_at=timezone.now(), document=document
        )
        sent += 1
    return sent
