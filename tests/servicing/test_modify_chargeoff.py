from datetime import date
from decimal import Decimal

import pytest

from servicing.models import ChargeOff, Loan, Modification, ScheduleVersion

from .factories import board_loan


@pytest.fixture
def agent_client(staff_api_client, servicing_agent):
    return staff_api_client(servicing_agent)


def _modify(client, loan, body):
    return client.post(f"/api/v1/loans/{loan.pk}/modifications/", body, format="json")


def _decide(client, loan, modification_id, decision, reason="ok"):
    return client.post(
        f"/api/v1/loans/{loan.pk}/modifications/{modification_id}/{decision}/",
        {"reason": reason},
        format="json",
    )


def _charge_off(client, loan, operation, reason):
    return client.post(
        f"/api/v1/loans/{loan.pk}/charge-off/{operation}/", {"reason": reason}, format="json"
    )


def test_modification_creates_a_new_schedule_version(agent_client, loan, business_date):
    business_date(date(2026, 1, 15))
    response = _modify(
        agent_client, loan, {"annual_rate_pct": "6", "remaining_term": 24, "reason": "hardship"}
    )

    assert response.status_code == 201
    assert response.json()["schedule_version"] == 2
    versions = ScheduleVersion.objects.filter(loan=loan).order_by("version")
    assert [v.is_current for v in versions] == [False, True]
    assert versions[1].installments.count() == 24
    loan.refresh_from_db()
    assert loan.annual_rate == Decimal("0.06")
    assert versions[1].regular_payment < versions[0].regular_payment
    assert loan.events.filter(kind="modification").count() == 1


def test_modification_due_day_and_deferral(agent_client, loan, business_date):
    business_date(date(2026, 1, 15))
    response = _modify(
        agent_client, loan, {"due_day": 15, "defer_installments": 2, "reason": "hardship"}
    )
    assert response.status_code == 201
    first = loan.installments.filter(schedule__is_current=True).order_by("number").first()
    assert first.due_date == date(2026, 4, 15)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"annual_rate_pct": "-1", "reason": "x"}, "annual_rate_pct"),
        ({"remaining_term": 0, "reason": "x"}, "remaining_term"),
        ({"remaining_term": -3, "reason": "x"}, "remaining_term"),
        ({"due_day": 31, "reason": "x"}, "due_day"),
        ({"reason": "nothing changes"}, "non_field_errors"),
    ],
)
def test_bad_modification_changes_nothing(agent_client, loan, business_date, body, field):
    response = _modify(agent_client, loan, body)
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert Modification.objects.count() == 0
    assert ScheduleVersion.objects.filter(loan=loan).count() == 1


def test_non_amortizing_modification_409(agent_client, loan, business_date):
    business_date(date(2026, 1, 15))
    response = _modify(
        agent_client,
        loan,
        {"annual_rate_pct": "99", "defer_installments": 12, "remaining_term": 480, "reason": "x"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_modification"
    assert ScheduleVersion.objects.filter(loan=loan).count() == 1


def test_large_modification_needs_a_second_person(
    agent_client, borrower, business_date, staff_api_client, admin_user, settings
):
    settings.SERVICING_MODIFICATION_APPROVAL_LIMIT = "1000.00"
    loan = board_loan(borrower=borrower, principal="5000.00")
    pending = _modify(agent_client, loan, {"remaining_term": 24, "reason": "hardship"})
    assert pending.status_code == 202
    modification_id = pending.json()["id"]
    assert ScheduleVersion.objects.filter(loan=loan).count() == 1

    own = _decide(agent_client, loan, modification_id, "approve")
    assert own.status_code == 403
    approved = _decide(staff_api_client(admin_user), loan, modification_id, "approve")
    assert approved.status_code == 200
    assert approved.json() == {"id": modification_id, "status": "applied", "schedule_version": 2}
    assert ScheduleVersion.objects.filter(loan=loan, is_current=True).get().version == 2


def test_charge_off_four_eyes_recovery_and_undo(
    agent_client, loan, business_date, staff_api_client, admin_user, servicing_agent
):
    business_date(date(2026, 4, 1))
    requested = _charge_off(agent_client, loan, "request", "uncollectable")
    assert requested.status_code == 202
    assert _charge_off(agent_client, loan, "request", "again").status_code == 409

    # the requester cannot approve, nor can someone without approve_charge_off
    assert _charge_off(agent_client, loan, "approve", "ok").status_code == 403
    admin = staff_api_client(admin_user)
    approved = _charge_off(admin, loan, "approve", "ok")
    assert approved.status_code == 200
    body = approved.json()
    assert body["loan_status"] == "charged_off"
    assert Decimal(body["principal"]) == Decimal("1200.00")
    assert Decimal(body["interest"]) > 0
    loan.refresh_from_db()
    assert (loan.principal_balance, loan.interest_balance) == (Decimal("0"), Decimal("0"))

    # a recovery
    admin.force_authenticate(admin_user)
    recovery = admin.post(
        f"/api/v1/loans/{loan.pk}/payments/",
        {"amount": "100.00", "method": "check"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="rec-1",
    )
    assert recovery.status_code == 201
    assert recovery.json()["is_recovery"] is True
    # undo is refused while a recovery stands
    undo = _charge_off(admin, loan, "undo", "error")
    assert undo.status_code == 409
    admin.post(
        f"/api/v1/payments/{recovery.json()['id']}/reverse/", {"reason": "bounced"}, format="json"
    )
    undo = _charge_off(admin, loan, "undo", "error")
    assert undo.status_code == 200
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE
    assert loan.principal_balance == Decimal("1200.00")
    assert ChargeOff.objects.get().status == "undone"


def test_charge_off_reject(agent_client, loan, staff_api_client, admin_user):
    _charge_off(agent_client, loan, "request", "x")
    rejected = _charge_off(staff_api_client(admin_user), loan, "reject", "no")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    loan.refresh_from_db()
    assert loan.status == "active"


def test_a_charge_off_decision_is_on_the_loan_timeline(
    agent_client, loan, staff_api_client, admin_user
):
    # Given a charge-off request
    _charge_off(agent_client, loan, "request", "x")

    # When a second person rejects it
    _charge_off(staff_api_client(admin_user), loan, "reject", "no")

    # Then the timeline holds the request and the decision (transition()'s row)
    rows = list(loan.events.filter(kind="charge_off").values_list("data", "reason", "actor"))
    charge_off = rows[0][0]["charge_off"]
    assert [data["status"] for data, _, _ in rows] == ["requested", "rejected"]
    assert rows[1] == ({"charge_off": charge_off, "status": "rejected"}, "no", admin_user.pk)


def test_the_requester_cannot_approve_their_own_modification(
    staff_api_client, admin_user, borrower, business_date, settings
):
    # given an admin (who may approve) asking for a modification above the limit
    settings.SERVICING_MODIFICATION_APPROVAL_LIMIT = "1000.00"
    loan = board_loan(borrower=borrower, principal="5000.00")
    admin = staff_api_client(admin_user)
    modification_id = _modify(admin, loan, {"remaining_term": 24, "reason": "x"}).json()["id"]

    # when they approve it themselves
    own = _decide(admin, loan, modification_id, "approve")

    # then the service refuses it: four eyes
    assert own.status_code == 403
    assert own.json()["code"] == "four_eyes_required"


def test_reject_a_pending_modification(
    agent_client, staff_api_client, admin_user, borrower, business_date, settings
):
    settings.SERVICING_MODIFICATION_APPROVAL_LIMIT = "1000.00"
    loan = board_loan(borrower=borrower, principal="5000.00")
    modification_id = _modify(agent_client, loan, {"remaining_term": 24, "reason": "x"}).json()[
        "id"
    ]

    rejected = _decide(staff_api_client(admin_user), loan, modification_id, "reject", "no")

    assert rejected.status_code == 200
    assert rejected.json() == {
        "id": modification_id,
        "status": "rejected",
        "schedule_version": None,
    }
    assert ScheduleVersion.objects.filter(loan=loan).count() == 1


def test_a_modification_of_another_loan_is_404(
    agent_client, staff_api_client, admin_user, borrower, loan, settings
):
    settings.SERVICING_MODIFICATION_APPROVAL_LIMIT = "1000.00"
    other = board_loan(borrower=borrower, principal="5000.00")
    modification_id = _modify(agent_client, other, {"remaining_term": 24, "reason": "x"}).json()[
        "id"
    ]

    response = _decide(staff_api_client(admin_user), loan, modification_id, "approve")

    assert response.status_code == 404
    assert response.json()["code"] == "modification_not_found"


def test_charge_off_undo_needs_approve_charge_off(agent_client, loan):
    response = _charge_off(agent_client, loan, "undo", "error")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_old_action_endpoints_are_gone(agent_client, loan):
    assert _modify(agent_client, loan, {}).status_code == 400
    assert (
        agent_client.post(f"/api/v1/loans/{loan.pk}/modify/", {}, format="json").status_code == 404
    )
    assert (
        agent_client.post(f"/api/v1/loans/{loan.pk}/charge-off/", {}, format="json").status_code
        == 404
    )


def test_a_modification_cures_a_loan_that_is_past_due(agent_client, loan, business_date):
    # Given a loan with two installments unpaid (first due 2026-02-01), 67 days late
    from servicing.ledger import ledger_problems
    from servicing.selectors import loan_balances

    business_date(date(2026, 4, 9))
    before = loan_balances(loan)
    assert before.dpd == 67
    assert before.past_due_amount > 0

    # When it is modified (a longer term)
    response = _modify(agent_client, loan, {"remaining_term": 24, "reason": "hardship"})

    # Then it is current at once: the past-due principal is in the new schedule, nothing
    # is due before today, days past due and bucket say so; the books still balance
    assert response.status_code == 201, response.content
    loan.refresh_from_db()
    after = loan_balances(loan)
    assert (after.dpd, after.past_due_amount) == (0, Decimal("0.00"))
    assert (loan.dpd, loan.delinquency_bucket, loan.delinquent) == (0, "current", False)
    assert loan.principal_balance == before.principal_balance
    assert not ledger_problems()
