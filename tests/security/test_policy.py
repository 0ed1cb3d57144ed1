"""The policy table as the API, the services and the groups apply it (issue 10, point 3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from lendcore.accounts.roles import POLICY, ROLE_PERMISSIONS, Action, Role, roles_allowed
from lendcore.accounts.services import roles_sync, staff_user_create
from lendcore.errors import PermissionDenied
from servicing.models import Modification, Payment, ScheduleVersion
from servicing.modification_limits import within_role_limits
from servicing.services import business_date_set, payment_post, payment_reverse
from tests.servicing.factories import board_loan


@pytest.fixture
def auditor(roles):
    return staff_user_create(username="t_auditor", password="x-Pass-12345", role=Role.AUDITOR)


@pytest.fixture
def on_feb_1(db):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)

    def _board(borrower, **kwargs):
        loan = board_loan(borrower=borrower, **kwargs)
        business_date_set(business_date=date(2026, 2, 1), acting_user=None)
        return loan

    return _board


# --------------------------------------------------------------------------- the table


def test_each_group_holds_exactly_its_row(roles):
    # an action taken out of a row is taken from the group at the next sync
    collector = Group.objects.get(name=Role.COLLECTOR)
    collector.permissions.add(Permission.objects.get(codename=Action.REVERSE_PAYMENT))
    roles_sync()
    for role, codenames in ROLE_PERMISSIONS.items():
        held = set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__app_label="accounts")
            .values_list("codename", flat=True)
        )
        assert held == set(codenames), role


def test_origination_roles_do_not_service_loans():
    for role in (Role.LOAN_OFFICER, Role.UNDERWRITER):
        assert not {Action.READ_LOAN, Action.EXPORT_GL} & set(POLICY[role])
    assert roles_allowed(Action.REVERSE_PAYMENT) == {Role.SERVICING_AGENT, Role.ADMIN}
    assert roles_allowed(Action.EXPORT_GL) == {Role.AUDITOR, Role.ADMIN}


# --------------------------------------------------------------------------- API = UI


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/loans/",
        "/api/v1/loans/{id}/",
        "/api/v1/loans/{id}/schedule/",
        "/api/v1/loans/{id}/payments/",
        "/api/v1/loans/{id}/journal/",
        "/api/v1/loans/{id}/payoff-quote/",
        "/api/v1/loans/{id}/statements/",
        "/api/v1/loans/{id}/fees/",
        "/api/v1/gl/export/?from=2026-01-01&to=2026-02-01",
    ],
)
def test_origination_staff_read_no_loans_through_the_api(
    path, staff_api_client, loan_officer, underwriter, borrower, on_feb_1
):
    loan = on_feb_1(borrower)
    for user in (loan_officer, underwriter):
        response = staff_api_client(user).get(path.format(id=loan.pk))
        assert response.status_code == 403, (user, path)


def test_an_auditor_reads_and_exports_but_never_writes(
    staff_api_client, auditor, borrower, on_feb_1
):
    loan = on_feb_1(borrower)
    client = staff_api_client(auditor)
    assert client.get("/api/v1/loans/").json()["count"] == 1
    assert client.get(f"/api/v1/loans/{loan.pk}/journal/").status_code == 200
    assert client.get("/api/v1/gl/export/?from=2026-01-01&to=2026-02-01").status_code == 200
    paid = client.post(
        f"/api/v1/loans/{loan.pk}/payments/",
        {"amount": "10.00", "method": "ach"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert paid.status_code == 403
    assert Payment.objects.count() == 0


def test_a_collector_may_not_reverse_a_payment(staff_api_client, collector, borrower, on_feb_1):
    loan = on_feb_1(borrower)
    payment = payment_post(
        loan=loan,
        amount=Decimal("50.00"),
        effective_date=date(2026, 2, 1),
        method="ach",
        acting_user=None,
    )
    response = staff_api_client(collector).post(
        f"/api/v1/payments/{payment.pk}/reverse/", {"reason": "returned"}, format="json"
    )
    assert response.status_code == 403
    # the service checks it too (the admin's and any other caller's path)
    with pytest.raises(PermissionDenied, match="reverse_payments"):
        payment_reverse(payment=payment, reason="returned", acting_user=collector)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.POSTED


def test_borrower_b_finds_none_of_a_s_loans_by_any_filter(
    staff_api_client, borrower, other_borrower, on_feb_1
):
    loan = on_feb_1(borrower)
    client = staff_api_client(other_borrower.user)
    for query in (
        f"?borrower={borrower.pk}",
        f"?q={loan.loan_number}",
        "?q=Carol",
        "?status=active",
        "",
    ):
        assert client.get(f"/api/v1/loans/{query}").json()["count"] == 0, query


# --------------------------------------------------------------------------- modification limits


def _modify(client, loan, body):
    return client.post(f"/api/v1/loans/{loan.pk}/modifications/", body, format="json")


def test_a_collector_s_zero_rate_480_month_modification_waits_for_approval(
    staff_api_client, collector, admin_user, borrower, on_feb_1
):
    # the approval limit by balance is not what stops it: the collector's role limits are
    loan = on_feb_1(borrower, principal="20000.00", n_periods=36)
    response = _modify(
        staff_api_client(collector),
        loan,
        {"annual_rate_pct": "0", "remaining_term": 480, "reason": "hardship"},
    )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    loan.refresh_from_db()
    assert loan.annual_rate_pct > 0
    assert ScheduleVersion.objects.filter(loan=loan).count() == 1

    approved = staff_api_client(admin_user).post(
        f"/api/v1/loans/{loan.pk}/modifications/{response.json()['id']}/approve/",
        {"reason": "ok"},
        format="json",
    )
    assert approved.status_code == 200
    loan.refresh_from_db()
    assert loan.annual_rate_pct == 0


def test_a_collector_applies_a_modification_within_the_limits(
    staff_api_client, collector, borrower, on_feb_1
):
    loan = on_feb_1(borrower, principal="5000.00", n_periods=12)
    response = _modify(
        staff_api_client(collector),
        loan,
        {"remaining_term": 18, "defer_installments": 1, "reason": "hardship"},
    )
    assert response.status_code == 201, response.json()
    assert Modification.objects.get().status == Modification.Status.APPLIED


def test_the_collector_limits_are_a_setting(
    staff_api_client, collector, borrower, on_feb_1, settings
):
    settings.SERVICING_MODIFICATION_LIMITS = {}  # no row: every modification waits
    loan = on_feb_1(borrower, principal="5000.00", n_periods=12)
    response = _modify(staff_api_client(collector), loan, {"due_day": 10, "reason": "x"})
    assert response.status_code == 202


def test_loan_officers_cannot_modify(staff_api_client, loan_officer, borrower, on_feb_1):
    loan = on_feb_1(borrower)
    response = _modify(staff_api_client(loan_officer), loan, {"due_day": 10, "reason": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("rate", "extension", "defer", "within"),
    [
        (None, 0, 0, True),
        (Decimal("9"), 12, 2, True),  # a 3-point cut to 9 %, a year longer, two deferred
        (Decimal("8.99"), 0, 0, False),  # a cut over 3 points
        (Decimal("4"), 0, 0, False),  # below the 5 % floor
        (Decimal("15"), 0, 0, True),  # a higher rate is no concession
        (None, 13, 0, False),
        (None, 0, 3, False),
    ],
)
def test_collector_limits(rate, extension, defer, within, settings):
    settings.SERVICING_MODIFICATION_LIMITS = {
        "collector": {
            "min_rate_pct": "5",
            "max_rate_cut_pct": "3",
            "max_term_extension": 12,
            "max_defer_installments": 2,
        }
    }
    assert (
        within_role_limits(
            roles=["collector"],
            current_rate_pct=Decimal("12"),
            annual_rate_pct=rate,
            term_extension=extension,
            defer_installments=defer,
        )
        is within
    )
    # a role without a row grants nothing on its own
    assert not within_role_limits(
        roles=["loan_officer"],
        current_rate_pct=Decimal("12"),
        annual_rate_pct=None,
        term_extension=0,
        defer_installments=0,
    )
