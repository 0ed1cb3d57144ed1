"""The read replica (lendcore/core/replica.py): heavy reads take the `replica` alias when
DATABASE_REPLICA_URL is set, everything else stays on `default`.

CI sets DATABASE_REPLICA_URL, so `replica` is its own connection (a test mirror of the test
database): the transactional tests here capture each alias's queries separately and prove
which one read what. Without the variable the same tests prove that everything uses `default`.
"""

from __future__ import annotations

import csv
import io
from contextlib import ExitStack
from datetime import date
from decimal import Decimal

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from lendcore.core.models import AuditEvent
from lendcore.core.replica import (
    REPLICA,
    PrimaryReplicaRouter,
    read_replica,
    replica_alias,
    replica_configured,
    using_replica,
)
from servicing.models import JournalLine, Loan
from servicing.selectors import gl_lines, portfolio_summary
from servicing.services import payment_post

EXPECTED = REPLICA if replica_configured() else DEFAULT_DB_ALIAS


class Captured:
    """The SQL each alias ran inside the block (`replica` only when configured)."""

    def __init__(self) -> None:
        self.stack = ExitStack()
        self.by_alias: dict[str, CaptureQueriesContext] = {}

    def __enter__(self) -> Captured:
        for alias in {DEFAULT_DB_ALIAS, EXPECTED}:
            self.by_alias[alias] = self.stack.enter_context(
                CaptureQueriesContext(connections[alias])
            )
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()

    def sql(self, alias: str) -> list[str]:
        if alias not in self.by_alias:
            return []
        return [q["sql"] for q in self.by_alias[alias].captured_queries]

    def reads_of(self, alias: str, table: str) -> list[str]:
        """Its SELECTs of `table` (on PostgreSQL an iterator's is a DECLARE ... FOR SELECT)."""
        return [
            s
            for s in self.sql(alias)
            if table in s and s.lstrip().upper().startswith(("SELECT", "DECLARE", "WITH"))
        ]


def test_the_router_writes_and_migrates_only_the_primary():
    router = PrimaryReplicaRouter()

    assert router.db_for_write(Loan) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "servicing") is True
    assert router.allow_migrate(REPLICA, "servicing") is False
    assert router.allow_relation(Loan(), JournalLine()) is True
    assert router.db_for_read(Loan) is None  # Django's default: the primary (or the hint)
    with read_replica() as alias:
        assert alias == EXPECTED
        assert router.db_for_read(Loan) == (REPLICA if replica_configured() else None)
        assert router.db_for_write(Loan) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Loan) is None


def test_a_heavy_read_queryset_names_the_replica_alias(db):
    assert replica_alias() == EXPECTED
    assert using_replica(Loan.objects.all()).db == EXPECTED
    assert gl_lines(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31)).db == EXPECTED
    assert Loan.objects.all().db == DEFAULT_DB_ALIAS
    with read_replica():
        assert Loan.objects.all().db == EXPECTED


@pytest.mark.django_db(transaction=True)
def test_the_gl_export_reads_the_journal_from_the_replica(
    staff_api_client, admin_user, loan, business_date
):
    business_date(date(2026, 2, 1))
    payment_post(
        loan=loan,
        amount=Decimal("50.00"),
        effective_date=date(2026, 2, 1),
        method="ach",
        acting_user=None,
    )
    client = staff_api_client(admin_user)

    with Captured() as captured:
        response = client.get("/api/v1/gl/export/?from=2026-01-01&to=2026-02-01")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["entry_type"] for r in rows} >= {"disbursement", "accrual", "payment"}
    assert {r["loan_number"] for r in rows} == {loan.loan_number}
    assert captured.reads_of(EXPECTED, "servicing_journalline")
    if replica_configured():
        # the export's reads left the primary; its audit event was written there
        assert not captured.reads_of(DEFAULT_DB_ALIAS, "servicing_journalline")
        assert not any("INSERT" in s.upper() for s in captured.sql(REPLICA))
    assert AuditEvent.objects.using(DEFAULT_DB_ALIAS).filter(action="gl_exported").exists()


@pytest.mark.django_db(transaction=True)
def test_the_dashboards_portfolio_figures_come_from_the_replica(loan):
    with Captured() as captured:
        summary = portfolio_summary()

    assert summary.active_loans == 1
    assert summary.principal_outstanding == loan.principal_balance
    assert captured.reads_of(EXPECTED, "servicing_loan")
    if replica_configured():
        assert not captured.reads_of(DEFAULT_DB_ALIAS, '"servicing_loan"."status"')


@pytest.mark.django_db(transaction=True)
def test_the_audit_export_reads_the_trail_from_the_replica(client, admin_user):
    client.force_login(admin_user)

    with Captured() as captured:
        response = client.get("/staff/audit/export/")

    assert response.status_code == 200
    assert captured.reads_of(EXPECTED, "core_auditevent")
    if replica_configured():
        assert not captured.reads_of(DEFAULT_DB_ALIAS, "core_auditevent")


@pytest.mark.django_db(transaction=True)
def test_ordinary_reads_and_writes_stay_on_the_primary(
    staff_api_client, servicing_agent, loan, business_date
):
    """Read-your-writes: a payment and the loan read back right after never touch the replica,
    and a write inside `read_replica()` still goes to the primary."""
    client = staff_api_client(servicing_agent)

    with Captured() as captured:
        posted = client.post(
            f"/api/v1/loans/{loan.pk}/payments/",
            {"amount": "50.00", "effective_date": "2026-01-01", "method": "ach"},
            HTTP_IDEMPOTENCY_KEY="replica-test-1",
        )
        detail = client.get(f"/api/v1/loans/{loan.pk}/")
        with read_replica():
            AuditEvent.objects.create(action="replica_probe", object_type="test")

    assert posted.status_code == 201, posted.content
    assert detail.status_code == 200
    if replica_configured():
        assert captured.sql(REPLICA) == []
    assert AuditEvent.objects.using(DEFAULT_DB_ALIAS).filter(action="replica_probe").exists()


def test_an_ordinary_test_sees_its_own_rows_through_the_replica_alias(loan):
    """Inside a test's one transaction the replica alias shares it (tests/conftest.py): the
    heavy reads see what the test wrote, as the rest of the suite relies on."""
    assert using_replica(Loan.objects.filter(pk=loan.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_the_loan_tape_reads_the_book_from_the_replica(staff_api_client, admin_user, loan):
    client = staff_api_client(admin_user)

    with Captured() as captured:
        response = client.get("/api/v1/loan-tape/?as_of=2026-01-01")
        body = b"".join(response.streaming_content).decode()

    assert response.status_code == 200
    assert loan.loan_number in body
    for table in ("servicing_journalline", "servicing_loan"):
        assert captured.reads_of(EXPECTED, table)
    if replica_configured():
        assert not captured.reads_of(DEFAULT_DB_ALIAS, "servicing_journalline")
        assert not any("INSERT" in s.upper() for s in captured.sql(REPLICA))
    assert AuditEvent.objects.using(DEFAULT_DB_ALIAS).filter(action="loan_tape_exported").exists()
