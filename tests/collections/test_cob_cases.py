"""Close of business opens, follows, assigns and cures collection cases (SQLite locally,
PostgreSQL in CI: the step's SQL is the same on both)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from collections_app.cob import WORK_TABLE, collections_close
from collections_app.models import CaseEvent, CollectionCase, QueueCursor
from collections_app.priority import case_priority
from collections_app.services.assignment import cases_assign_round_robin, collectors_active
from lendcore.accounts.roles import Action, Role
from lendcore.accounts.services import staff_user_create
from servicing.cob.runner import CobAlreadyClosed, cob_close_through, cob_run_start
from servicing.models import CobRun, Installment, Loan
from servicing.services import business_date_set, payment_post

from .conftest import FIRST_DUE

pytestmark = pytest.mark.django_db


def _close(day: date) -> None:
    [(_day, outcome, run)] = [r for r in cob_close_through(through=day) if r[0] == day]
    assert outcome == "closed", run and run.error


def _case(loan: Loan) -> CollectionCase:
    return CollectionCase.objects.get(loan=loan, status=CollectionCase.Status.OPEN)


def _first_installment(loan: Loan) -> Installment:
    return Installment.objects.get(loan=loan, number=1, schedule__is_current=True)


def _state() -> tuple[list, list]:
    cases = list(CollectionCase.objects.order_by("pk").values())
    events = list(CaseEvent.objects.order_by("pk").values("case_id", "kind", "data"))
    return cases, events


def test_a_loan_falls_behind_is_worked_and_cures(board, collector, collector2):
    # Given three loans first due 2026-02-14; the third is paid on time
    a, b, c = board("a"), board("b"), board("c")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    payment_post(
        loan=c,
        amount=_first_installment(c).remaining,
        effective_date=FIRST_DUE,
        method="ach",
        acting_user=None,
    )

    # When the due date closes: nobody is past due yet, no case
    _close(FIRST_DUE)
    assert not CollectionCase.objects.exists()

    # When the next day closes: a and b are one day past due -> a case each, round-robin
    _close(date(2026, 2, 15))
    case_a, case_b = _case(a), _case(b)
    assert not CollectionCase.objects.filter(loan=c).exists()
    owed = _first_installment(a).remaining
    assert owed > 0
    assert (case_a.opened_on, case_a.dpd, case_a.bucket) == (date(2026, 2, 15), 1, "1-29")
    assert case_a.amount_past_due == owed
    assert case_a.priority == case_priority(amount_past_due=owed, dpd=1) == owed
    assert {case_a.assignee_id, case_b.assignee_id} == {collector.pk, collector2.pk}
    assert list(case_a.events.order_by("pk").values_list("kind", flat=True)) == [
        "opened",
        "assigned",
    ]
    assert case_a.events.get(kind="opened").actor_id is None

    # When another day closes: the same cases, two days past due, priority doubled
    _close(date(2026, 2, 16))
    case_a = _case(a)
    assert CollectionCase.objects.count() == 2
    assert case_a.dpd == 2
    assert case_a.priority == case_priority(amount_past_due=owed, dpd=2) == owed * 2
    assert case_a.events.count() == 2  # no new history: same bucket, same collector

    # When a pays what is past due and the day closes: a's case is cured, b's goes on
    payment_post(
        loan=a,
        amount=_first_installment(a).remaining,
        effective_date=date(2026, 2, 17),
        method="ach",
        acting_user=None,
    )
    _close(date(2026, 2, 17))
    cured = CollectionCase.objects.get(loan=a)
    assert (cured.status, cured.closed_on, cured.outcome) == ("cured", date(2026, 2, 17), "cured")
    assert (cured.dpd, cured.priority, cured.amount_past_due) == (0, 0, 0)
    assert cured.events.filter(kind="cured", business_date=date(2026, 2, 17)).exists()
    assert _case(b).dpd == 3

    # Re-running the closed date changes nothing: the run refuses, the step is a no-op
    with pytest.raises(CobAlreadyClosed):
        cob_run_start(business_date=date(2026, 2, 17))
    before = _state()
    lo, hi = min(a.pk, b.pk, c.pk), max(a.pk, b.pk, c.pk)
    assert collections_close(lo, hi, date(2026, 2, 17)) == 0
    assert _state() == before
    assert (
        CobRun.objects.get(business_date=date(2026, 2, 17)).steps["collections_close"]["count"] == 0
    )


def test_a_case_follows_the_bucket_and_a_paid_off_loan_closes_it(board, collector):
    a = board("a")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(FIRST_DUE)
    _close(date(2026, 2, 15))
    case = _case(a)
    # bucket edges come from the loan: skip ahead to 30 days past due
    cob_close_through(through=date(2026, 3, 16))
    case.refresh_from_db()
    assert (case.dpd, case.bucket) == (30, "30-59")
    change = case.events.get(kind="bucket_changed")
    assert change.data == {"from": "1-29", "to": "30-59", "dpd": 30}
    assert change.business_date == date(2026, 3, 16)
    assert case.amount_past_due == sum(
        (
            i.remaining
            for i in Installment.objects.filter(
                loan=a, schedule__is_current=True, due_date__lt=date(2026, 3, 16)
            )
        ),
        Decimal(0),
    )
    assert case.priority == case_priority(amount_past_due=case.amount_past_due, dpd=30)

    # paid off: the case closes with the loan's status as its outcome
    business_date_set(business_date=date(2026, 3, 17), acting_user=None)
    from servicing.selectors import loan_balances

    payoff = loan_balances(Loan.objects.get(pk=a.pk)).payoff_today
    payment_post(
        loan=a, amount=payoff, effective_date=date(2026, 3, 17), method="ach", acting_user=None
    )
    assert Loan.objects.get(pk=a.pk).status == Loan.Status.PAID_OFF
    _close(date(2026, 3, 17))
    case.refresh_from_db()
    assert (case.status, case.outcome, case.closed_on) == ("closed", "paid_off", date(2026, 3, 17))
    assert case.events.filter(kind="closed").count() == 1


def test_the_open_dpd_setting_delays_opening(board, collector, settings):
    settings.COLLECTIONS_OPEN_DPD = 3
    a = board("a")
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    cob_close_through(through=date(2026, 2, 16))
    assert not CollectionCase.objects.exists()  # two days past due
    _close(date(2026, 2, 17))
    assert _case(a).dpd == 3


def test_one_open_case_per_loan(board):
    a = board("a")
    CollectionCase.objects.create(loan=a, opened_on=FIRST_DUE, bucket="1-29", reviewed_on=FIRST_DUE)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionCase.objects.create(
            loan=a, opened_on=FIRST_DUE, bucket="1-29", reviewed_on=FIRST_DUE
        )
    # a cured case does not block the loan's next one
    CollectionCase.objects.filter(loan=a).update(status="cured", closed_on=FIRST_DUE)
    CollectionCase.objects.create(loan=a, opened_on=FIRST_DUE, bucket="1-29", reviewed_on=FIRST_DUE)
    assert CollectionCase.objects.filter(loan=a).count() == 2


def test_round_robin_goes_on_where_the_bucket_left_off(board, collector, collector2, manager):
    # the circle: everyone whose role holds work_collections (the manager too), by id
    loans = [board(name) for name in "abcde"]
    cases = [
        CollectionCase.objects.create(
            loan=loan,
            opened_on=FIRST_DUE,
            bucket="1-29" if i < 4 else "30-59",
            reviewed_on=FIRST_DUE,
            priority=Decimal(100 - i),
        )
        for i, loan in enumerate(loans)
    ]
    circle = [collector.pk, collector2.pk, manager.pk]
    QueueCursor.objects.create(bucket="1-29", last_assignee_id=collector.pk)
    assert cases_assign_round_robin(CollectionCase.objects.all(), on=FIRST_DUE) == 5
    got = [CollectionCase.objects.get(pk=c.pk).assignee_id for c in cases]
    # 1-29 starts after `collector`, in priority order; 30-59 starts at the circle's head
    assert got == [circle[1], circle[2], circle[0], circle[1], circle[0]]
    assert QueueCursor.objects.get(bucket="1-29").last_assignee_id == circle[1]
    # assigned cases are not assigned again
    assert cases_assign_round_robin(CollectionCase.objects.all(), on=FIRST_DUE) == 0


def test_the_collectors_are_the_users_holding_work_collections(collector, collector2, manager):
    """The circle's plain query says what the ORM would: active users holding the permission
    through a role (group) or on their own, once each, in id order."""
    User = get_user_model()
    codename, app = Action.WORK_COLLECTIONS, "accounts"
    own = User.objects.create_user("t_own_perm")
    own.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label=app))
    both = staff_user_create(username="t_both", password="lendcore-demo", role=Role.COLLECTOR)
    both.user_permissions.add(
        Permission.objects.get(codename=codename, content_type__app_label=app)
    )
    gone = staff_user_create(username="t_gone", password="lendcore-demo", role=Role.COLLECTOR)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    staff_user_create(username="t_officer", password="lendcore-demo", role=Role.LOAN_OFFICER)
    holds = Q(
        groups__permissions__codename=codename, groups__permissions__content_type__app_label=app
    ) | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app)
    expected = list(
        User.objects.filter(holds, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    assert collectors_active() == expected
    assert set(expected) == {collector.pk, collector2.pk, manager.pk, own.pk, both.pk}


def test_without_collectors_cases_wait_unassigned(board):
    a = board("a")
    CollectionCase.objects.create(loan=a, opened_on=FIRST_DUE, bucket="1-29", reviewed_on=FIRST_DUE)
    assert cases_assign_round_robin(CollectionCase.objects.all(), on=FIRST_DUE) == 0


@pytest.mark.parametrize(
    ("amount", "dpd", "expected"),
    [
        (Decimal("100.00"), 3, Decimal("300.00")),
        (Decimal("0.01"), 1, Decimal("0.01")),
        (Decimal("250.50"), 0, Decimal("0.00")),
        (Decimal("0.00"), 40, Decimal("0.00")),
    ],
)
def test_priority_is_amount_past_due_times_dpd(amount, dpd, expected):
    assert case_priority(amount_past_due=amount, dpd=dpd) == expected


def test_a_promise_factor_scales_the_priority():
    assert case_priority(
        amount_past_due=Decimal("10.00"), dpd=3, promise_factor=Decimal("0.5")
    ) == Decimal("15.00")


# What close of business rewrites on every open case each night (collections_app.cob).
NIGHTLY_COLUMNS = {"dpd", "bucket", "amount_past_due", "priority", "reviewed_on"}


def test_the_nightly_case_rewrite_touches_no_index():
    """The rewrite of every open case is a HOT update on PostgreSQL only while no index (nor
    an index's condition) holds a column it writes, and only with room left on the page."""
    table = CollectionCase._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        indexed = {
            column
            for spec in constraints.values()
            if spec["index"] or spec["unique"] or spec["primary_key"]
            for column in spec["columns"]
        }
        assert indexed, constraints  # the introspection saw the indexes
        assert not indexed & NIGHTLY_COLUMNS
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = %s::regclass AND indpred IS NOT NULL",
                [table],
            )
            for (definition,) in cursor.fetchall():
                predicate = definition.split(" WHERE ", 1)[1]
                assert not any(column in predicate for column in NIGHTLY_COLUMNS), definition
            cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
            assert "fillfactor=45" in cursor.fetchone()[0]


def test_the_work_table_is_empty_after_each_scope(board, collector):
    loans = [board(name) for name in "ab"]
    business_date_set(business_date=FIRST_DUE, acting_user=None)
    _close(date(2026, 2, 16))
    assert CollectionCase.objects.filter(status=CollectionCase.Status.OPEN).count() == 2
    lo, hi = min(loan.pk for loan in loans), max(loan.pk for loan in loans)
    # the same day closed again in the same connection: nothing new, nothing left behind
    before = _state()
    collections_close(lo, hi, date(2026, 2, 16))
    assert _state() == before
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {WORK_TABLE}")
        assert cursor.fetchone()[0] == 0
