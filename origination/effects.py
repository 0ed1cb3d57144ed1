"""Side effects of origination's services, sent to Celery by task NAME after commit.

A service never imports `origination.tasks` (which imports the services): it calls one of
these, which queue the task named in `origination/tasks.py` once the transaction commits
(Zulip's `send_event_on_commit`, Saleor's checkout-to-order handoff). The task is looked up
in the Celery registry by name, so an eager run (tests, the embedded default) calls it in
process; a name the registry does not know goes to the broker.
"""

from __future__ import annotations

from typing import Any

from lendcore.core import broker

from .models import Application

NOTIFICATION_SEND = "origination.notification_send"
APPLICATION_DECIDE = "origination.application_decide"
ADVERSE_ACTION_NOTICE = "origination.adverse_action_notice"
INVITATION_SEND = "origination.invitation_send"
LOAN_IMPORT_RUN = "origination.loan_import_run"


def task_send(name: str, *args: Any) -> None:
    """Queue the task registered under `name` with `args` (now: call it in `on_commit`);
    kept and sent again when the broker is down (`lendcore.core.broker`)."""
    broker.task_send(name, *args)


def task_send_on_commit(name: str, *args: Any) -> None:
    broker.task_send_on_commit(name, *args)


def notification_on_commit(application_id: int, event: str) -> None:
    """E-mail the applicant about `event` once the transaction commits."""
    task_send_on_commit(NOTIFICATION_SEND, application_id, event)


def invitation_on_commit(invitation_id: int, token: str) -> None:
    """E-mail a borrower's invitation (with its one-time token) once the transaction commits."""
    task_send_on_commit(INVITATION_SEND, invitation_id, token)


def decision_requested_on_commit(application_id: int) -> None:
    """Run the automated decision of a submitted application once it is committed."""
    task_send_on_commit(APPLICATION_DECIDE, application_id)


def decision_effects_on_commit(application_id: int, status: str) -> None:
    """A decline renders the adverse-action notice (which e-mails it); an approval or a
    referral e-mails the decision, and an approval the offer too."""
    if status == Application.Status.DECLINED:
        task_send_on_commit(ADVERSE_ACTION_NOTICE, application_id)
    else:
        notification_on_commit(application_id, f"decision_{status}")
        if status == Application.Status.APPROVED:
            notification_on_commit(application_id, "offer")


def loan_import_on_commit(import_id: int) -> None:
    """Run a portfolio import once its upload is committed."""
    task_send_on_commit(LOAN_IMPORT_RUN, import_id)
