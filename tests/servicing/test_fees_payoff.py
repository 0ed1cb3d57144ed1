from datetime import date
from decimal import Decimal

import pytest

from servicing.models import Fee, FeeWaiver, JournalEntry
from servicing.services import accrue_interest, late_fees_assess


@pytest.fixture
def agent_client(staff_api_client, servicing_agent):
    return staff_api_client(servicing_agent)


def test_manual_fee_and_partial_then_full_waiver(agent_client, loan):
    created = agent_client.post(
        f"/api/v1/loans/{loan.pk}/fees/",
        {"kind": "manual", "amount": "20.00", "reason": "statement copy"},
        format="json",
    )
    assert created.status_code == 201
    fee_id = created.json()["id"]

    partial = agent_client.post(
        f"/api/v1/fees/{fee_id}/waive/", {"amount": "5.00", "reason": "goodwill"}, format="json"
    )
    assert partial.status_code == 200
    assert partial.json()["fee"]["outstanding"] == "15.00"
    full = agent_client.post(f"/api/v1/fees/{fee_id}/waive/", {"reason": "goodwill"}, format="json")
    assert full.status_code == 200
    assert full.json()["fee"]["outstanding"] == "0.00"
    assert agent_client.get(f"/api/v1/loans/{loan.pk}/").json()["fees_balance"] == "0.00"


def test_waiving_more_than_due_changes_nothing(agent_client, loan):
    fee_id = agent_client.post(
        f"/api/v1/loans/{loan.pk}/fees/",
        {"amount": "20.00", "reason": "copy"},
        format="json",
    ).json()["id"]
    entries = JournalEntry.objects.count()

    response = agent_client.post(
        f"/api/v1/fees/{fee_id}/waive/", {"amount": "20.01", "reason": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "waiver_too_large"
    assert FeeWaiver.objects.count() == 0
    assert JournalEntry.objects.count() == entries
    no_reason = agent_client.post(
        f"/api/v1/fees/{fee_id}/waive/", {"amount": "1.00"}, format="json"
    )
    assert no_reason.status_code == 400


def test_fees_need_manage_fees(staff_api_client, collector, loan):
    client = staff_api_client(collector)
    response = client.post(
        f"/api/v1/loans/{loan.pk}/fees/", {"amount": "20.00", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert Fee.objects.count() == 0


def test_bad_fee_amount(agent_client, loan):
    for amount in ("0", "-1", "1.234"):
        response = agent_client.post(
            f"/api/v1/loans/{loan.pk}/fees/", {"amount": amount, "reason": "x"}, format="json"
        )
        assert response.status_code == 400
    assert Fee.objects.count() == 0


def test_late_fee_by_policy_once_per_installment(loan, business_date):
    business_date(date(2026, 2, 11))
    assert late_fees_assess(loan_ids=[loan.pk], business_date=date(2026, 2, 11)) == []  # grace
    business_date(date(2026, 2, 12))
    fees = late_fees_assess(loan_ids=[loan.pk], business_date=date(2026, 2, 12))
    again = late_fees_assess(loan_ids=[loan.pk], business_date=date(2026, 2, 12))

    assert [f.amount for f in fees] == [Decimal("15.00")]
    assert again == []
    loan.refresh_from_db()
    assert loan.fees_balance == Decimal("15.00")


def test_payoff_quote(agent_client, loan, business_date):
    business_date(date(2026, 1, 11))
    accrue_interest([loan.pk], date(2026, 1, 11))

    today = agent_client.get(f"/api/v1/loans/{loan.pk}/payoff-quote/").json()
    assert today["payoff_amount"] == "1203.95"
    assert today["per_diem"] == "0.39"
    assert today["good_through"] == "2026-01-11"
    later = agent_client.get(f"/api/v1/loans/{loan.pk}/payoff-quote/?date=2026-02-10").json()
    assert later["payoff_amount"] == "1215.78"  # 40 days of interest
    assert later["good_through"] == "2026-02-10"


@pytest.mark.parametrize("on", ["2026-01-10", "2026-02-11", "not-a-date"])
def test_payoff_quote_bad_dates(agent_client, loan, business_date, on):
    business_date(date(2026, 1, 11))
    response = agent_client.get(f"/api/v1/loans/{loan.pk}/payoff-quote/?date={on}")
    assert response.status_code == 400
    assert "date" in response.json()["extra"]["fields"]


def test_payoff_quote_amount_pays_off_exactly(agent_client, loan, business_date):
    business_date(date(2026, 1, 20))
    quote = agent_client.get(f"/api/v1/loans/{loan.pk}/payoff-quote/").json()
    response = agent_client.post(
        f"/api/v1/loans/{loan.pk}/payments/",
        {"amount": quote["payoff_amount"], "method": "wire"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="payoff",
    )
    assert response.status_code == 201
    detail = agent_client.get(f"/api/v1/loans/{loan.pk}/").json()
    assert detail["status"] == "paid_off"
    assert detail["credit_balance"] == "0.00"
    assert detail["total_due"] == "0.00"


def test_a_charged_off_loans_fee_cannot_be_waived(loan, business_date, servicing_agent, admin_user):
    """Found by the whole-life property: the fee was written off with the loan, and waiving
    it again took the loan's fee balance below zero."""
    from servicing.errors import LoanStateConflict
    from servicing.models import Loan
    from servicing.services import charge_off_decide, charge_off_request, fee_assess, fee_waive

    fee = fee_assess(
        loan=loan, kind="manual", amount=Decimal("0.50"), reason="copy", acting_user=None
    )
    charge_off_request(loan=loan, reason="gone", acting_user=servicing_agent)
    charge_off_decide(loan=loan, approve=True, reason="ok", acting_user=admin_user)

    with pytest.raises(LoanStateConflict):
        fee_waive(fee=fee, amount=None, reason="goodwill", acting_user=servicing_agent)
    assert Loan.objects.get(pk=loan.pk).fees_balance == Decimal("0.00")
