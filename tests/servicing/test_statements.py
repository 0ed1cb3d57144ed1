import io
from datetime import date
from decimal import Decimal

from django.core import mail
from django.core.management import call_command

from servicing.models import Statement
from servicing.services import accrue_interest, payment_post, statement_generate


def test_statement_generate_and_download(
    staff_api_client, servicing_agent, loan, business_date, api_client, borrower
):
    business_date(date(2026, 2, 1))
    accrue_interest([loan.pk], date(2026, 1, 31))
    payment_post(
        loan=loan,
        amount=Decimal("106.62"),
        effective_date=date(2026, 2, 1),
        method="ach",
        acting_user=None,
    )
    statement = statement_generate(loan=loan, period_end=date(2026, 2, 1))
    again = statement_generate(loan=loan, period_end=date(2026, 2, 1))

    assert again.pk == statement.pk
    assert statement.opening_balance == Decimal("0.00")
    assert statement.payments_total == Decimal("106.62")
    assert statement.interest_charged == Decimal("12.23")
    assert statement.closing_balance == Decimal("1105.61")
    assert statement.next_due_date == date(2026, 3, 1)
    assert statement.pdf.name.endswith(".pdf")

    client = staff_api_client(servicing_agent)
    listed = client.get(f"/api/v1/loans/{loan.pk}/statements/").json()["results"]
    assert [row["id"] for row in listed] == [statement.pk]
    api_client.force_authenticate(borrower.user)
    download = api_client.get(f"/api/v1/statements/{statement.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_generate_statements_command(loan, business_date, django_capture_on_commit_callbacks):
    business_date(date(2026, 2, 1))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("generate_statements", "--date", "2026-02-01", stdout=out)
    assert "1 statement(s)" in out.getvalue()
    assert Statement.objects.count() == 1
    assert len(mail.outbox) == 1
    call_command("generate_statements", "--date", "2026-02-01", stdout=io.StringIO())
    assert Statement.objects.count() == 1


def test_paid_off_loan_gets_one_closing_statement(loan, business_date):
    business_date(date(2026, 1, 20))
    payment_post(
        loan=loan,
        amount=Decimal("1300.00"),
        effective_date=date(2026, 1, 20),
        method="ach",
        acting_user=None,
        allow_credit=True,
    )
    call_command("generate_statements", "--date", "2026-02-01", stdout=io.StringIO())
    call_command("generate_statements", "--date", "2026-03-01", stdout=io.StringIO())

    assert list(Statement.objects.values_list("period_end", flat=True)) == [date(2026, 2, 1)]
