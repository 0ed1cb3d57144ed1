"""The loan tape (servicing/loan_tape.py): every loan disbursed by D, as of D, from the ledger
and the delinquency history; CSV and Parquet from one column list; API, command, docs."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from drf_spectacular.generators import SchemaGenerator

from servicing.cob.runner import cob_close_through
from servicing.loan_tape import COLUMN_NAMES, COLUMNS, ledger_account_balance_as_of, loan_tape_rows
from servicing.loan_tape_export import loan_tape_csv, loan_tape_parquet, parquet_schema
from servicing.models import Account, DelinquencyHistory, JournalLine, Loan, Payment
from servicing.services import (
    charge_off_decide,
    charge_off_request,
    fee_assess,
    payment_post,
    payoff_quote,
)

from .factories import LoanFactory

URL = "/api/v1/loan-tape/"
D = date(2026, 2, 20)
TODAY = date(2026, 3, 10)
ROOT = Path(__file__).resolve().parents[2]


def _ledger(loan_id: int, account: str, on: date) -> Decimal:
    sums = JournalLine.objects.filter(
        loan_id=loan_id, account=account, entry__effective_date__lte=on
    ).aggregate(d=Sum("debit"), c=Sum("credit"))
    return (sums["d"] or Decimal("0")) - (sums["c"] or Decimal("0"))


@pytest.fixture
def book(borrower, business_date, admin_user, servicing_agent):
    """Loan `paid` (a payment and a fee before D, charged off after D), `late` (never paid:
    delinquent from 2026-02-02), `auto` (another product), `new` (boarded after D)."""
    paid = LoanFactory(borrower=borrower, application_ref="APP-PAID")
    late = LoanFactory(borrower=borrower, application_ref="APP-LATE")
    auto = LoanFactory(borrower=borrower, application_ref="APP-AUTO", product_code="AUTO")
    cob_close_through(through=date(2026, 1, 31))
    payment_post(loan=paid, amount=Decimal("106.62"), method="ach", acting_user=servicing_agent)
    payment_post(loan=auto, amount=Decimal("106.62"), method="ach", acting_user=servicing_agent)
    cob_close_through(through=date(2026, 2, 10))
    fee_assess(
        loan=paid, kind="nsf", amount=Decimal("25.00"), reason="returned", acting_user=admin_user
    )
    cob_close_through(through=TODAY - date.resolution)
    # after D: the charge-off and a loan boarded
    business_date(TODAY)
    charge_off_request(loan=paid, reason="uncollectable", acting_user=servicing_agent)
    charge_off_decide(loan=paid, approve=True, reason="ok", acting_user=admin_user)
    new = LoanFactory(borrower=borrower, application_ref="APP-NEW", disbursed_on=TODAY)
    return {
        name: Loan.objects.get(pk=loan.pk)
        for name, loan in {"paid": paid, "late": late, "auto": auto, "new": new}.items()
    }


def _by_number(as_of: date, **kwargs) -> dict[str, dict]:
    return {row["loan_number"]: row for row in loan_tape_rows(as_of=as_of, **kwargs)}


def test_as_of_a_past_date_balances_are_the_ledgers_then(book):
    paid, new = book["paid"], book["new"]

    tape = _by_number(D)

    # the loan boarded after D is absent; the others are there
    assert new.loan_number not in tape
    assert set(tape) == {book[name].loan_number for name in ("paid", "late", "auto")}
    row = tape[paid.loan_number]
    # balances as the ledger said on D (not today's: the charge-off came later)
    assert row["principal_outstanding"] == _ledger(paid.pk, Account.PRINCIPAL, D) > 0
    assert row["interest_receivable"] == _ledger(paid.pk, Account.INTEREST, D) > 0
    assert row["fees_receivable"] == _ledger(paid.pk, Account.FEES, D) == Decimal("25.00")
    assert row["total_outstanding"] == (
        row["principal_outstanding"] + row["interest_receivable"] + row["fees_receivable"]
    )
    payment = Payment.objects.get(loan=paid)
    assert (row["principal_paid"], row["interest_paid"], row["fees_paid"]) == (
        payment.alloc_principal + payment.alloc_excess - payment.alloc_credit,
        payment.alloc_interest,
        payment.alloc_fees,
    )
    assert row["status"] == "active"
    assert row["charged_off"] is False
    assert row["charged_off_on"] is None
    assert row["next_due_date"] == date(2026, 3, 1)
    assert row["next_due_amount"] > 0
    # today the same loan is charged off, its receivables written off
    today = _by_number(TODAY)[paid.loan_number]
    assert today["status"] == "charged_off"
    assert today["charged_off"] is True
    assert today["charged_off_on"] == TODAY
    assert today["principal_outstanding"] == Decimal("0.00") == paid.principal_balance
    assert today["next_due_date"] is None
    assert _by_number(TODAY)[new.loan_number]["principal_outstanding"] == new.principal_amount


def test_dpd_and_bucket_as_of_a_past_date_come_from_the_history(book):
    late = book["late"]
    # close of business moved it 1-29 on 02-02 and 30-59 on 03-03
    moves = list(
        DelinquencyHistory.objects.filter(loan=late).values_list("business_date", "to_bucket")
    )
    assert (date(2026, 2, 2), "1-29") in moves
    assert (date(2026, 3, 3), "30-59") in moves

    as_of_d = _by_number(D)[late.loan_number]
    today = _by_number(TODAY)[late.loan_number]

    assert (as_of_d["dpd"], as_of_d["delinquency_bucket"]) == (19, "1-29")
    assert (today["dpd"], today["delinquency_bucket"]) == (37, "30-59")
    assert _by_number(date(2026, 1, 15))[late.loan_number]["dpd"] == 0
    assert _by_number(D)[book["auto"].loan_number]["delinquency_bucket"] == "current"


def test_a_loan_paid_off_after_d_is_active_on_d_and_paid_off_since(
    loan, business_date, servicing_agent
):
    business_date(date(2026, 1, 15))
    quote = payoff_quote(loan=loan)
    payment_post(loan=loan, amount=quote.payoff_amount, method="ach", acting_user=servicing_agent)

    before = _by_number(date(2026, 1, 14))[loan.loan_number]
    after = _by_number(date(2026, 1, 15))[loan.loan_number]

    assert (before["status"], before["principal_outstanding"]) == ("active", Decimal("1200.00"))
    assert before["next_due_date"] == date(2026, 2, 1)
    assert (after["status"], after["total_outstanding"]) == ("paid_off", Decimal("0.00"))
    assert after["principal_paid"] == Decimal("1200.00")
    assert after["interest_paid"] == quote.interest
    assert (after["next_due_date"], after["next_due_amount"]) == (None, None)
    assert (after["dpd"], after["delinquency_bucket"]) == (0, "current")


def test_the_principal_column_sums_to_the_ledgers_principal_account(book):
    for on in (date(2026, 1, 1), D, TODAY):
        rows = list(loan_tape_rows(as_of=on))

        total = sum((row["principal_outstanding"] for row in rows), Decimal("0.00"))

        assert total == ledger_account_balance_as_of(account=Account.PRINCIPAL, as_of=on)


def test_a_product_filter_and_small_chunks_give_the_same_rows(book):
    every = list(loan_tape_rows(as_of=TODAY))
    chunked = list(loan_tape_rows(as_of=TODAY, chunk_size=1))
    auto = list(loan_tape_rows(as_of=TODAY, product="AUTO"))

    assert chunked == every
    assert [row["loan_id"] for row in every] == sorted(row["loan_id"] for row in every)
    assert [row["loan_number"] for row in auto] == [book["auto"].loan_number]


def test_csv_and_parquet_carry_the_same_rows_and_the_documented_columns(book):
    rows = list(loan_tape_rows(as_of=D))

    text = "".join(loan_tape_csv(rows))
    table = pq.read_table(io.BytesIO(b"".join(loan_tape_parquet(rows, batch_size=2))))

    parsed = list(csv.DictReader(io.StringIO(text)))
    assert tuple(parsed[0]) == COLUMN_NAMES
    assert table.schema.names == list(COLUMN_NAMES)
    assert table.schema == parquet_schema()
    assert str(table.schema.field("principal_outstanding").type) == "decimal128(18, 2)"
    from_parquet = table.to_pylist()
    assert len(from_parquet) == len(parsed) == len(rows) == 3
    for cells, record, row in zip(parsed, from_parquet, rows, strict=True):
        assert record == row  # Decimal, date, int, bool and None, exactly
        assert cells["principal_outstanding"] == f"{row['principal_outstanding']:.2f}"
        assert cells["annual_rate"] == "0.1200000000"
        assert cells["charged_off"] == "false"
        assert cells["charged_off_on"] == ""
        assert cells["disbursed_on"] == "2026-01-01"


def test_the_docs_list_every_column_with_its_type():
    docs = (ROOT / "docs" / "loan_tape.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", docs, flags=re.M)

    assert [name for name, _ in documented] == list(COLUMN_NAMES)
    assert [kind.strip() for _, kind in documented] == [
        column.kind + (" or empty" if column.nullable else "") for column in COLUMNS
    ]
    assert "docs/loan_tape.md" in (ROOT / "README.md").read_text()


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize("role", ["servicing_agent", "collector", "admin_user"])
def test_staff_who_read_loans_download_the_tape(request, staff_api_client, book, role):
    client = staff_api_client(request.getfixturevalue(role))

    csv_response = client.get(URL, {"as_of": D.isoformat()})
    parquet = client.get(URL, {"as_of": D.isoformat(), "format": "parquet", "product": "AUTO"})

    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv"
    assert 'filename="loan-tape-2026-02-20.csv"' in csv_response["Content-Disposition"]
    body = b"".join(csv_response.streaming_content).decode()
    assert len(body.strip().splitlines()) == 1 + 3
    assert parquet.status_code == 200
    assert parquet["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(b"".join(parquet.streaming_content)))
    assert table.column("loan_number").to_pylist() == [book["auto"].loan_number]


def test_without_as_of_the_tape_is_of_the_business_date(staff_api_client, servicing_agent, book):
    response = staff_api_client(servicing_agent).get(URL)

    assert response.status_code == 200
    assert "loan-tape-2026-03-10.csv" in response["Content-Disposition"]
    assert len(b"".join(response.streaming_content).decode().strip().splitlines()) == 1 + 4


def test_borrowers_and_staff_without_loan_access_are_refused(
    api_client, staff_api_client, borrower, loan_officer, business_date
):
    api_client.force_authenticate(user=borrower.user)
    assert api_client.get(URL).status_code == 403
    assert staff_api_client(loan_officer).get(URL).status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("as_of=2026-02-30", "as_of"),
        ("as_of=20260220", "as_of"),
        ("as_of=", "as_of"),
        ("as_of=2026-03-11", "as_of"),  # after the business date
        ("format=xlsx", "format"),
        ("product=", "product"),
        ("as_of=2026-02-20&as_of=2026-02-21", "as_of"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff_api_client, servicing_agent, book, query, field):
    response = staff_api_client(servicing_agent).get(f"{URL}?{query}")

    assert response.status_code == 400
    body = response.json()
    fields = body.get("extra", {}).get("fields", body)
    assert field in fields


def test_the_schema_documents_both_media_types():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["get"]

    content = operation["responses"]["200"]["content"]
    assert content["text/csv"]["schema"] == {"type": "string"}
    assert content["application/vnd.apache.parquet"]["schema"] == {
        "type": "string",
        "format": "binary",
    }
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert params["format"]["enum"] == ["csv", "parquet"]
    assert params["as_of"] == {"type": "string", "format": "date"}
    assert params["product"] == {"type": "string", "minLength": 1, "maxLength": 64}
    assert {"400", "403"} <= set(operation["responses"])


# --------------------------------------------------------------------------- command


def test_the_command_writes_the_tape(book, tmp_path):
    target = tmp_path / "tape.parquet"
    csv_target = tmp_path / "tape.csv"

    call_command(
        "export_loan_tape", "--as-of", D.isoformat(), "--format", "parquet", "--output", target
    )
    call_command("export_loan_tape", "--as-of", D.isoformat(), "--output", csv_target)

    table = pq.read_table(target)
    assert table.num_rows == 3
    assert table.to_pylist() == list(loan_tape_rows(as_of=D))
    assert csv_target.read_text().splitlines()[0] == ",".join(COLUMN_NAMES)


@pytest.mark.parametrize("as_of", ["2026-13-01", "2026-03-11"])
def test_the_command_refuses_a_bad_date(book, tmp_path, as_of):
    with pytest.raises(CommandError, match="--as-of"):
        call_command("export_loan_tape", "--as-of", as_of, "--output", tmp_path / "x.csv")


# --------------------------------------------------------------------------- staff page

PAGE = "/staff/loan-tape/"


def test_the_reports_page_links_the_loan_tape_page(client, servicing_agent, business_date):
    client.force_login(servicing_agent)

    reports = client.get("/staff/reports/")
    page = client.get(PAGE)

    assert PAGE in reports.content.decode()
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="2026-01-01"' in body  # the business date
    assert all(f"<code>{name}</code>" in body for name in COLUMN_NAMES)


def test_the_page_downloads_the_tape_and_shows_errors(client, servicing_agent, book):
    client.force_login(servicing_agent)

    download = client.get(PAGE, {"as_of": D.isoformat(), "product": "", "format": "parquet"})
    too_late = client.get(PAGE, {"as_of": "2026-03-11", "product": "", "format": "csv"})

    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(b"".join(download.streaming_content)))
    assert table.num_rows == 3
    assert too_late.status_code == 400
    assert "Must be on or before the business date (2026-03-10)." in too_late.content.decode()


def test_the_page_refuses_staff_who_do_not_read_loans(client, loan_officer, business_date):
    client.force_login(loan_officer)

    assert client.get(PAGE).status_code == 403
    assert PAGE not in client.get("/staff/reports/").content.decode()
