"""The audit trail (issue 10, point 11): sign-ins, failed ones, tokens; append-only in the
database; kept when the user goes; searched and exported by auditors only."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from lendcore.accounts.services import api_token_issue, staff_user_create
from lendcore.core.audit import audit_record
from lendcore.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "lendcore-demo"


@pytest.fixture
def auditor(roles):
    return staff_user_create(username="t_auditor", password=PASSWORD, role="auditor")


def _actions() -> list[tuple[str, str, str]]:
    return list(AuditEvent.objects.order_by("id").values_list("action", "actor_name", "ip"))


def test_sign_ins_failures_and_sign_outs_are_recorded_with_the_address(client, borrower):
    client.post(
        "/accounts/login/",
        {"username": "carol@example.com", "password": "wrong"},
        REMOTE_ADDR="192.0.2.7",
    )
    client.post(
        "/accounts/login/",
        {"username": "carol@example.com", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.7",
    )
    client.post("/accounts/logout/", REMOTE_ADDR="192.0.2.7")
    assert _actions() == [
        ("login_failed", "carol@example.com", "192.0.2.7"),
        ("login", "carol@example.com", "192.0.2.7"),
        ("logout", "carol@example.com", "192.0.2.7"),
    ]


def test_a_failed_admin_login_and_a_token_are_recorded(client, api_client, servicing_agent):
    client.post("/admin/login/", {"username": "nobody", "password": "x"})
    api_client.post(
        "/api/v1/auth/token/",
        {"username": servicing_agent.username, "password": PASSWORD},
        format="json",
    )
    actions = [action for action, *_ in _actions()]
    assert actions == ["login_failed", "token_issued"]
    issued = AuditEvent.objects.get(action="token_issued")
    assert issued.object_type == "accounts.apitoken"
    assert issued.detail == {"scope": "admin", "days": 90}


def test_audit_rows_cannot_be_updated(servicing_agent):
    event = audit_record(action="test", actor=servicing_agent)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    event.refresh_from_db()
    assert event.action == "test"


@pytest.mark.postgres
def test_audit_rows_cannot_be_deleted_on_postgresql(servicing_agent):
    assert connection.vendor == "postgresql"
    event = audit_record(action="test", actor=servicing_agent)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_an_event_outlives_its_user(roles):
    user = staff_user_create(username="t_gone", password=PASSWORD, role="collector")
    issued = api_token_issue(user=user)
    user_id = user.pk
    user.delete()  # the token goes with the user; the audit row stays, naming both
    event = AuditEvent.objects.get(action="token_issued")
    assert (event.actor_name, event.actor_id) == ("t_gone", user_id)
    assert event.object_label.startswith(issued.token.prefix)
    assert not User.objects.filter(username="t_gone").exists()


def test_only_auditors_and_admins_read_the_trail(client, auditor, servicing_agent, admin_user):
    assert client.get("/staff/audit/").status_code == 302  # anonymous: sign in
    client.force_login(servicing_agent)
    assert client.get("/staff/audit/").status_code == 403
    assert client.get("/staff/audit/export/").status_code == 403
    for reader in (auditor, admin_user):
        client.force_login(reader)
        assert client.get("/staff/audit/").status_code == 200


def test_the_trail_is_searched_by_user_action_object_and_date(client, auditor, servicing_agent):
    audit_record(action="pii_reveal", actor=servicing_agent, object_type="app", object_id=7)
    audit_record(action="document_view", actor=servicing_agent, object_type="doc", object_id=9)
    audit_record(action="pii_reveal", actor=auditor, object_type="app", object_id=8)
    client.force_login(auditor)

    def shown(**query):
        response = client.get("/staff/audit/", query)
        assert response.status_code == 200
        return [(e.action, e.object_id) for e in response.context["page"].object_list]

    assert shown(user="t_servicing", action="pii_reveal") == [("pii_reveal", "7")]
    assert shown(object_type="doc", object_id="9") == [("document_view", "9")]
    assert len(shown(date_from="2000-01-01", date_to="2999-12-31")) >= 3
    assert shown(date_to="2000-01-01") == []
    bad = client.get("/staff/audit/", {"date_from": "not-a-date"})
    assert "date_from" in bad.context["form"].errors


def test_the_page_costs_the_same_queries_for_few_or_many_events(
    client, auditor, django_assert_max_num_queries
):
    client.force_login(auditor)
    for n in range(3):
        audit_record(action="a", actor=auditor, n=n)
    client.get("/staff/audit/")  # warm the session and permission caches
    with django_assert_max_num_queries(8) as few:
        client.get("/staff/audit/")
    for n in range(40):
        audit_record(action="a", actor=auditor, n=n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/staff/audit/")


def test_the_export_is_csv_without_formulas_and_is_itself_audited(client, auditor):
    audit_record(action="=cmd|'/c calc'!A1", actor=auditor, object_label="@SUM(1)")
    client.force_login(auditor)
    response = client.get("/staff/audit/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["when", "action", "user"]
    dangerous = [row for row in rows[1:] if row[1].startswith("'=")]
    assert dangerous
    assert dangerous[0][6] == "'@SUM(1)"
    assert AuditEvent.objects.filter(action="audit_exported", actor_name="t_auditor").exists()
