"""Monthly statements: figures from the ledger, a WeasyPrint PDF, an e-mail on commit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from lendcore.finance.dates import days_in_month
from lendcore.finance.money import ZERO, round_money

from .models import (
    Account,
    EntryType,
    InterestAccrual,
    JournalLine,
    Loan,
    LoanEvent,
    Payment,
    Statement,
)


def _net(qs, account: str, *, credit_normal: bool) -> Decimal:
    sums = qs.filter(account=account).aggregate(d=Sum("debit"), c=Sum("credit"))
    debit, credit = sums["d"] or ZERO, sums["c"] or ZERO
    return round_money(credit - debit if credit_normal else debit - credit)


def _owed_through(loan: Loan, through: date) -> Decimal:
    lines = JournalLine.objects.filter(loan=loan, entry__effective_date__lte=through)
    total = ZERO
    for account in (Account.PRINCIPAL, Account.INTEREST, Account.FEES):
        total += _net(lines, account, credit_normal=False)
    return total


def statement_generate(*, loan: Loan, period_end: date, acting_user=None) -> Statement:
    """The statement for the period ending `period_end` (idempotent per loan and period)."""
    existing = Statement.objects.filter(loan=loan, period_end=period_end).first()
    if existing is not None:
        return existing
    from .selectors import loan_balances, loans_with_due

    previous = (
        Statement.objects.filter(loan=loan, period_end__lt=period_end)
        .order_by("-period_end")
        .first()
    )
    start = previous.period_end + timedelta(days=1) if previous else loan.disbursed_on
    period_lines = JournalLine.objects.filter(
        loan=loan, entry__effective_date__gte=start, entry__effective_date__lte=period_end
    )
    # Interest charged: the period's live accruals as posted (close of business posts the
    # income side of a day's accrual once for many loans, so not from the loan's lines).
    interest = (
        InterestAccrual.objects.filter(
            loan=loan, reversed=False, date__gte=start, date__lte=period_end
        ).aggregate(t=Sum("posted"))["t"]
        or ZERO
    )
    fees = _net(
        period_lines.filter(
            entry__entry_type__in=[EntryType.FEE, EntryType.FEE_WAIVER, EntryType.REVERSAL]
        ),
        Account.FEES,
        credit_normal=False,
    )
    payments = Payment.objects.filter(
        loan=loan,
        status=Payment.Status.POSTED,
        effective_date__gte=start,
        effective_date__lte=period_end,
    )
    payments_total = payments.aggregate(t=Sum("amount"))["t"] or ZERO
    annotated = loans_with_due(Loan.objects.filter(pk=loan.pk), on=period_end).get()
    balances = loan_balances(annotated, on=period_end)
    with transaction.atomic():
        statement = Statement.objects.create(
            loan=loan,
            period_start=start,
            period_end=period_end,
            opening_balance=_owed_through(loan, start - timedelta(days=1)),
            closing_balance=_owed_through(loan, period_end),
            payments_total=payments_total,
            interest_charged=interest,
            fees_charged=fees,
            past_due_amount=balances.past_due_amount,
            next_due_date=balances.next_due_date,
            next_due_amount=balances.next_due_amount,
        )
        activity = [
            {
                "date": p.effective_date,
                "kind": "Payment",
                "description": f"{p.get_method_display()} {p.reference}".strip(),
                "amount": f"-{p.amount}",
            }
            for p in payments.order_by("effective_date", "id")
        ]
        html = render_to_string(
            "servicing/statement.html",
            {"loan": loan, "statement": statement, "activity": activity},
        )
        statement.pdf.save(
            f"{loan.loan_number}-{period_end.isoformat()}.pdf",
            ContentFile(_pdf(html)),
            save=True,
        )
        LoanEvent.objects.create(
            loan=loan,
            kind=LoanEvent.Kind.STATEMENT,
            data={"statement": statement.pk, "period_end": period_end.isoformat()},
            business_date=period_end,
            actor=acting_user if getattr(acting_user, "pk", None) else None,
        )
        transaction.on_commit(lambda: _announce(statement.pk))
    return statement


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _announce(statement_id: int) -> None:
    statement = Statement.objects.select_related("loan__borrower").get(pk=statement_id)
    borrower = statement.loan.borrower
    if borrower.email_opt_out or not borrower.email:
        return
    send_mail(
        subject=f"Your statement for loan {statement.loan.loan_number} is ready",
        message=(
            f"Your statement for {statement.period_start} to {statement.period_end} is ready "
            "in the portal."
        ),
        from_email=None,
        recipient_list=[borrower.email],
        fail_silently=True,
    )
    Statement.objects.filter(pk=statement_id).update(emailed_at=timezone.now())


def statements_generate_due(*, on: date, acting_user=None) -> list[Statement]:
    """Statements of every open loan whose cycle day (its first due day) is `on`."""
    last_day = days_in_month(on.year, on.month)
    cycle = Q(first_due_date__day=on.day)
    if on.day == last_day:
        cycle |= Q(first_due_date__day__gt=last_day)
    # Open and charged-off loans; a paid-off loan gets one closing statement after payoff.
    closed_since_last = Q(status=Loan.Status.PAID_OFF) & ~Q(
        statements__period_start__lte=F("events__business_date"),
        events__to_status=Loan.Status.PAID_OFF,
    )
    loans = (
        Loan.objects.filter(cycle, disbursed_on__lt=on)
        .filter(Q(status__in=[Loan.Status.ACTIVE, Loan.Status.CHARGED_OFF]) | closed_since_last)
        .exclude(statements__period_end=on)
        .select_related("borrower")
        .order_by("id")
        .distinct()
    )
    return [statement_generate(loan=loan, period_end=on, acting_user=acting_user) for loan in loans]


def statements_render(*, statement_ids: list[int]) -> int:
    """The PDF and the e-mail of statements close of business created set-based."""
    done = 0
    for statement in (
        Statement.objects.filter(pk__in=statement_ids, pdf="").select_related("loan").order_by("pk")
    ):
        payments = Payment.objects.filter(
            loan_id=statement.loan_id,
            status=Payment.Status.POSTED,
            effective_date__gte=statement.period_start,
            effective_date__lte=statement.period_end,
        )
        activity = [
            {
                "date": p.effective_date,
                "kind": "Payment",
                "description": f"{p.get_method_display()} {p.reference}".strip(),
                "amount": f"-{p.amount}",
            }
            for p in payments.order_by("effective_date", "id")
        ]
        html = render_to_string(
            "servicing/statement.html",
            {"loan": statement.loan, "statement": statement, "activity": activity},
        )
        statement.pdf.save(
            f"{statement.loan.loan_number}-{statement.period_end.isoformat()}.pdf",
            ContentFile(_pdf(html)),
            save=False,
        )
        Statement.objects.filter(pk=statement.pk).update(pdf=statement.pdf.name)
        _announce(statement.pk)
        done += 1
    return done
