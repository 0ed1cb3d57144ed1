"""The loan page's actions: each one's happy path, its refusals (nothing changed), its
permission and its idempotent form (a double submit acts once)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from servicing.models import ChargeOff, Fee, FeeWaiver, JournalEntry, Loan, Modification, Payment
from servicing.services import payment_post

FEB1 = date(2026, 2, 1)


def _form(prefix: str, **fields) -> dict[str, str]:
    data = {f"{prefix}-{k}": str(v) for k, v in fields.items()}
    data.setdefault(f"{prefix}-idempotency_key", str(uuid.uuid4()))
    return data


def _ledger_size() -> int:
    return JournalEntry.objects.count()


def _post_payment(loan, amount="106.59", on=FEB1):
    return payment_post(
        loan=loan,
        amount=Decimal(amount),
        effective_date=on,
        method="ach",
        acting_user=None,
        allow_credit=True,
    )


# --------------------------------------------------------------------------- payments


class TestPostPayment:
    def test_posts_and_redirects_with_a_message(self, signed_in, servicing_agent, loan):
        client = signed_in(servicing_agent)
        data = _form("pay", amount="106.62", effective_date="2026-02-01", method="ach")

        response = client.post(f"/staff/loans/{loan.pk}/payments/", data, follow=True)

        payment = Payment.objects.get(loan=loan)
        assert payment.amount == Decimal("106.62")
        assert payment.created_by == servicing_agent
        assert response.redirect_chain[-1][0] == f"/staff/loans/{loan.pk}/#pay"
        assert f"Payment #{payment.pk} of 106.62 posted." in response.content.decode()

    def test_double_submit_posts_once(self, signed_in, servicing_agent, loan):
        client = signed_in(servicing_agent)
        data = _form("pay", amount="50.00", effective_date="2026-02-01", method="debit_card")

        first = client.post(f"/staff/loans/{loan.pk}/payments/", data)
        second = client.post(f"/staff/loans/{loan.pk}/payments/", data, follow=True)

        assert first.status_code == 302
        assert Payment.objects.filter(loan=loan).count() == 1
        assert "Already done" in second.content.decode()

    @pytest.mark.parametrize(
        ("amount", "when", "message"),
        [
            ("0", "2026-02-01", "greater than zero"),
            ("-5", "2026-02-01", "greater than zero"),
            ("10.005", "2026-02-01", "two decimals"),
            ("abc", "2026-02-01", "Enter an amount"),
            ("10.00", "2026-02-02", "cannot be after the business date"),
            ("10.00", "2025-12-31", "before disbursement"),
        ],
    )
    def test_bad_input_changes_nothing(
        self, signed_in, servicing_agent, loan, amount, when, message
    ):
        client = signed_in(servicing_agent)
        before = _ledger_size()

        response = client.post(
            f"/staff/loans/{loan.pk}/payments/",
            _form("pay", amount=amount, effective_date=when, method="ach"),
        )

        assert response.status_code == 400
        assert message in response.content.decode()
        assert 'role="alert"' in response.content.decode()
        assert Payment.objects.count() == 0
        assert _ledger_size() == before

    def test_refused_form_gets_a_new_key_so_the_fix_posts(self, signed_in, servicing_agent, loan):
        client = signed_in(servicing_agent)
        key = str(uuid.uuid4())
        bad = _form("pay", amount="10.00", effective_date="2026-03-01", method="ach")
        bad["pay-idempotency_key"] = key

        refused = client.post(f"/staff/loans/{loan.pk}/payments/", bad)
        new_key = refused.context["forms"]["pay"].data["pay-idempotency_key"]
        fixed = {**bad, "pay-effective_date": "2026-02-01", "pay-idempotency_key": new_key}
        accepted = client.post(f"/staff/loans/{loan.pk}/payments/", fixed)

        assert refused.status_code == 400
        assert new_key != key
        assert accepted.status_code == 302
        assert Payment.objects.count() == 1

    def test_paid_off_loan_refuses_with_409(self, signed_in, servicing_agent, loan):
        _post_payment(loan, amount="1300.00")
        assert Loan.objects.get(pk=loan.pk).status == Loan.Status.PAID_OFF
        before = _ledger_size()

        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/payments/",
            _form("pay", amount="10.00", effective_date="2026-02-01", method="ach"),
        )

        assert response.status_code == 409
        assert "paid off" in response.content.decode()
        assert _ledger_size() == before

    def test_needs_service_loans(self, signed_in, loan_officer, loan):
        response = signed_in(loan_officer).post(
            f"/staff/loans/{loan.pk}/payments/",
            _form("pay", amount="10.00", effective_date="2026-02-01", method="ach"),
        )
        assert response.status_code == 403
        assert Payment.objects.count() == 0


class TestPrepayment:
    def test_excess_goes_to_principal(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/prepayment/",
            _form("prepay", amount="500.00", effective_date="2026-02-01", method="wire"),
            follow=True,
        )

        payment = Payment.objects.get(loan=loan)
        assert payment.reference == "Prepayment"
        assert payment.alloc_excess > 0
        assert "went to principal ahead of schedule" in response.content.decode()


class TestReverse:
    def test_nsf_reversal_charges_the_fee(self, signed_in, servicing_agent, loan):
        payment = _post_payment(loan)
        client = signed_in(servicing_agent)

        response = client.post(
            f"/staff/loans/{loan.pk}/reverse/",
            _form("reverse", payment=payment.pk, reason="Returned R01", nsf="on"),
            follow=True,
        )

        payment.refresh_from_db()
        assert payment.status == Payment.Status.REVERSED
        assert payment.nsf
        fee = Fee.objects.get(loan=loan, kind=Fee.Kind.NSF)
        assert fee.amount == Decimal("25.00")
        html = response.content.decode()
        assert "NSF fee of the loan&#x27;s policy was charged" in html
        assert 'data-kind="nsf_fee"' in html

    def test_reversing_a_reversed_payment_is_409(self, signed_in, servicing_agent, loan):
        payment = _post_payment(loan)
        client = signed_in(servicing_agent)
        client.post(
            f"/staff/loans/{loan.pk}/reverse/", _form("reverse", payment=payment.pk, reason="R01")
        )
        before = _ledger_size()

        again = client.post(
            f"/staff/loans/{loan.pk}/reverse/", _form("reverse", payment=payment.pk, reason="R01")
        )

        assert again.status_code == 409
        assert "already reversed" in again.content.decode()
        assert _ledger_size() == before

    def test_reason_is_required(self, signed_in, servicing_agent, loan):
        payment = _post_payment(loan)

        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/reverse/", _form("reverse", payment=payment.pk, reason="")
        )

        assert response.status_code == 400
        assert Payment.objects.get().status == Payment.Status.POSTED

    def test_payment_of_another_loan_is_refused(self, signed_in, servicing_agent, loan, other_loan):
        other_payment = _post_payment(other_loan, amount="50.00")

        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/reverse/",
            _form("reverse", payment=other_payment.pk, reason="R01"),
        )

        assert response.status_code == 400
        assert Payment.objects.get().status == Payment.Status.POSTED


# --------------------------------------------------------------------------- fees


class TestFees:
    def test_assess_a_manual_fee(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/fees/",
            _form("fee", kind="manual", amount="12.50", reason="Statement copy"),
        )

        assert response.status_code == 302
        fee = Fee.objects.get(loan=loan)
        assert (fee.kind, fee.amount) == ("manual", Decimal("12.50"))
        assert Loan.objects.get(pk=loan.pk).fees_balance == Decimal("12.50")

    def test_collectors_cannot_assess_fees(self, signed_in, collector, loan):
        response = signed_in(collector).post(
            f"/staff/loans/{loan.pk}/fees/",
            _form("fee", kind="manual", amount="12.50", reason="Statement copy"),
        )
        assert response.status_code == 403
        assert not Fee.objects.exists()

    def test_bad_amount_changes_nothing(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/fees/",
            _form("fee", kind="manual", amount="0", reason="x"),
        )
        assert response.status_code == 400
        assert not Fee.objects.exists()

    def test_waive_part_then_too_much(self, signed_in, servicing_agent, loan):
        client = signed_in(servicing_agent)
        client.post(
            f"/staff/loans/{loan.pk}/fees/",
            _form("fee", kind="manual", amount="20.00", reason="Copy"),
        )
        fee = Fee.objects.get()

        partial = client.post(
            f"/staff/loans/{loan.pk}/waive/",
            _form("waive", fee=fee.pk, amount="5.00", reason="Goodwill"),
        )
        before = _ledger_size()
        too_much = client.post(
            f"/staff/loans/{loan.pk}/waive/",
            _form("waive", fee=fee.pk, amount="15.01", reason="Goodwill"),
        )

        assert partial.status_code == 302
        assert too_much.status_code == 400
        assert "At most 15.00 is outstanding" in too_much.content.decode()
        assert FeeWaiver.objects.count() == 1
        assert _ledger_size() == before
        assert Loan.objects.get(pk=loan.pk).fees_balance == Decimal("15.00")

    def test_waive_all_when_amount_is_empty(self, signed_in, servicing_agent, loan):
        client = signed_in(servicing_agent)
        client.post(
            f"/staff/loans/{loan.pk}/fees/", _form("fee", kind="manual", amount="9.99", reason="C")
        )
        fee = Fee.objects.get()

        client.post(
            f"/staff/loans/{loan.pk}/waive/", _form("waive", fee=fee.pk, amount="", reason="Oops")
        )

        fee.refresh_from_db()
        assert fee.outstanding == Decimal("0.00")


# --------------------------------------------------------------------------- payoff quote


class TestPayoffQuote:
    def test_quote_for_a_date(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).get(
            f"/staff/loans/{loan.pk}/payoff-quote/", {"payoff-date": "2026-02-10"}
        )

        assert response.status_code == 200
        assert response.context["quote"].good_through == date(2026, 2, 10)
        assert "good through 2026-02-10" in response.content.decode()

    def test_htmx_gets_the_quote_region_only(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).get(
            f"/staff/loans/{loan.pk}/payoff-quote/",
            {"payoff-date": "2026-02-10"},
            headers={"HX-Request": "true"},
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="payoff-result"')
        assert "Per diem" in html

    @pytest.mark.parametrize("when", ["2026-01-31", "2026-03-04"])
    def test_date_out_of_range_is_refused(self, signed_in, servicing_agent, loan, when):
        response = signed_in(servicing_agent).get(
            f"/staff/loans/{loan.pk}/payoff-quote/", {"payoff-date": when}
        )
        assert response.status_code == 400
        assert response.context["quote"] is None

    def test_missing_date_is_a_form_error(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).get(f"/staff/loans/{loan.pk}/payoff-quote/")
        assert response.status_code == 400
        assert "Enter the payoff date." in response.content.decode()


# --------------------------------------------------------------------------- modification


class TestModification:
    def test_rate_change_makes_a_new_schedule_version(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/modify/",
            _form("modify", annual_rate_pct="6", reason="Hardship"),
            follow=True,
        )

        assert "applied: a new schedule version is in force" in response.content.decode()
        assert loan.schedule_versions.count() == 2
        assert Loan.objects.get(pk=loan.pk).annual_rate == Decimal("0.06")

    def test_above_the_limit_waits_for_a_second_person(
        self, signed_in, client, servicing_agent, admin_user, loan, settings
    ):
        settings.SERVICING_MODIFICATION_APPROVAL_LIMIT = "100.00"
        signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/modify/", _form("modify", remaining_term="18", reason="H")
        )
        modification = Modification.objects.get()
        assert modification.status == Modification.Status.PENDING
        client.logout()
        admin = signed_in(admin_user)
        assert "waits for approval" in admin.get(f"/staff/loans/{loan.pk}/").content.decode()

        response = admin.post(
            f"/staff/loans/{loan.pk}/modify/decide/",
            _form("moddecide", modification=modification.pk, decision="approve"),
        )

        assert response.status_code == 302
        modification.refresh_from_db()
        assert modification.status == Modification.Status.APPLIED
        assert loan.schedule_versions.count() == 2

    def test_service_refusal_names_the_field(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/modify/",
            _form("modify", remaining_term="481", reason="Hardship"),
        )

        assert response.status_code == 400
        form = response.context["forms"]["modify"]
        assert "between 1 and 480" in str(form.errors["remaining_term"])
        assert loan.schedule_versions.count() == 1

    def test_nothing_to_change_is_a_form_error(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/modify/", _form("modify", reason="Hardship")
        )
        assert response.status_code == 400
        assert "Change at least one of" in response.content.decode()
        assert loan.schedule_versions.count() == 1

    def test_needs_service_loans(self, signed_in, underwriter, loan):
        response = signed_in(underwriter).post(
            f"/staff/loans/{loan.pk}/modify/", _form("modify", annual_rate_pct="6", reason="x")
        )
        assert response.status_code == 403


# --------------------------------------------------------------------------- charge-off


class TestChargeOff:
    def test_request_approve_then_undo(self, signed_in, client, servicing_agent, admin_user, loan):
        signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/charge-off/", _form("chargeoff", reason="Uncollectable")
        )
        client.logout()
        admin = signed_in(admin_user)
        assert "Charge-off requested" in admin.get(f"/staff/loans/{loan.pk}/").content.decode()

        approved = admin.post(
            f"/staff/loans/{loan.pk}/charge-off/decide/", _form("decide", decision="approve")
        )
        charged_off = Loan.objects.get(pk=loan.pk).status
        undone = admin.post(
            f"/staff/loans/{loan.pk}/charge-off/undo/", _form("undo", reason="Posted in error")
        )

        assert approved.status_code == 302
        assert charged_off == Loan.Status.CHARGED_OFF
        assert undone.status_code == 302
        assert Loan.objects.get(pk=loan.pk).status == Loan.Status.ACTIVE

    def test_requester_cannot_approve_their_own(self, signed_in, admin_user, loan):
        client = signed_in(admin_user)
        client.post(
            f"/staff/loans/{loan.pk}/charge-off/", _form("chargeoff", reason="Uncollectable")
        )
        before = _ledger_size()

        response = client.post(
            f"/staff/loans/{loan.pk}/charge-off/decide/", _form("decide", decision="approve")
        )

        assert response.status_code == 403
        assert "Four-eyes" in response.content.decode()
        assert Loan.objects.get(pk=loan.pk).status == Loan.Status.ACTIVE
        assert _ledger_size() == before

    def test_second_request_is_409(self, signed_in, servicing_agent, loan):
        client = signed_in(servicing_agent)
        client.post(f"/staff/loans/{loan.pk}/charge-off/", _form("chargeoff", reason="One"))

        again = client.post(f"/staff/loans/{loan.pk}/charge-off/", _form("chargeoff", reason="2"))

        assert again.status_code == 409
        assert ChargeOff.objects.count() == 1

    def test_agents_cannot_approve(self, signed_in, servicing_agent, loan):
        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/charge-off/decide/", _form("decide", decision="approve")
        )
        assert response.status_code == 403

    def test_nothing_to_approve_is_409(self, signed_in, admin_user, loan):
        response = signed_in(admin_user).post(
            f"/staff/loans/{loan.pk}/charge-off/decide/", _form("decide", decision="approve")
        )
        assert response.status_code == 409
        assert Loan.objects.get(pk=loan.pk).status == Loan.Status.ACTIVE


# --------------------------------------------------------------------------- credit refund


class TestRefund:
    def test_overpayment_credit_is_refunded(self, signed_in, servicing_agent, loan):
        _post_payment(loan, amount="1300.00")
        credit = Loan.objects.get(pk=loan.pk).credit_balance
        assert credit > 0

        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/refund/", _form("refund", amount=""), follow=True
        )

        assert f"{credit:,.2f} of credit balance refunded" in response.content.decode()
        assert Loan.objects.get(pk=loan.pk).credit_balance == Decimal("0.00")

    def test_nothing_to_refund_is_409(self, signed_in, servicing_agent, loan):
        before = _ledger_size()

        response = signed_in(servicing_agent).post(
            f"/staff/loans/{loan.pk}/refund/", _form("refund", amount="5.00")
        )

        assert response.status_code == 409
        assert "no credit balance" in response.content.decode()
        assert _ledger_size() == before


def test_staff_payoff_letter_is_a_pdf(signed_in, servicing_agent, loan):
    response = signed_in(servicing_agent).get(
        f"/staff/loans/{loan.pk}/payoff-quote/", {"payoff-date": "2026-02-10", "format": "pdf"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")
