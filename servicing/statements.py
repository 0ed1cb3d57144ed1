"""Monthly statements: figures from the ledger, a WeasyPrint PDF, an e-mail on commit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from lendcore.core.pdf import html_to_pdf
from lendcore.finance.dates import days_in_month
from lendcore.finance.money import ZERO, round_money

from .models import (
    Account,
    EntryType,
    Installment,
    InterestAccrual,
    JournalLine,
    Loan,
    LoanEvent,
    Payment,
    Statement,
)
from .selectors import loans_with_due

# what `selectors.loans_with_due` annotates (names the type checker cannot see on Loan)
DUE_FIELDS = ("pk", "past_due_amount", "next_installment_due_date", "next_installment_amount")

# Journal entries whose lines on the fees receivable make a statement's "fees charged": fees
# assessed, less waivers and fee reversals. A payment's reversal (a replay) moves the fees
# receivable too, but charges nothing.
STATEMENT_FEE_ENTRY_TYPES = (EntryType.FEE, EntryType.FEE_WAIVER, EntryType.FEE_REVERSAL)
RECEIVABLE_ACCOUNTS = (Account.PRINCIPAL, Account.INTEREST, Account.FEES)


def _owed(loan_ids: list[int], through: date) -> dict[int, Decimal]:
    rows = (
        JournalLine.objects.filter(
            loan_id__in=loan_ids,
            entry__effective_date__lte=through,
            account__in=RECEIVABLE_ACCOUNTS,
        )
        .values("loan_id")
        .annotate(d=Coalesce(Sum("debit"), ZERO), c=Coalesce(Sum("credit"), ZERO))
    )
    return {r["loan_id"]: round_money(r["d"] - r["c"]) for r in rows}


def statement_figures(*, loans: list[tuple[int, date]], on: date) -> dict[int, dict]:
    """The figures of the statements ending `on` of `loans` ((id, disbursed on) pairs), as
    Statement field values, by grouped queries (a constant number per distinct period
    start): the period starts the day after the loan's previous statement (at disbursement
    for the first); opening and closing balances are what the ledger says is owed
    (principal, interest, fees receivable) before the period and at its end, by effective
    date; interest charged is the period's live accruals as posted; fees charged are fees
    assessed less waived and reversed (`STATEMENT_FEE_ENTRY_TYPES`); payments are the
    period's posted payments; past due and next due are the schedule's
    (`selectors.loans_with_due`). Close of business's SQL is pinned to this."""
    ids = [pk for pk, _ in loans]
    previous = dict(
        Statement.objects.filter(loan_id__in=ids, period_end__lt=on)
        .order_by()
        .values("loan_id")
        .annotate(last=Max("period_end"))
        .values_list("loan_id", "last")
    )
    starts = {
        pk: (previous[pk] + timedelta(days=1)) if pk in previous else disbursed
        for pk, disbursed in loans
    }
    by_start: dict[date, list[int]] = defaultdict(list)
    for pk, start in starts.items():
        by_start[start].append(pk)
    opening: dict[int, Decimal] = {}
    interest: dict[int, Decimal] = {}
    fees: dict[int, Decimal] = {}
    payments: dict[int, Decimal] = {}
    for start, group in by_start.items():
        opening.update(_owed(group, start - timedelta(days=1)))
        interest.update(
            InterestAccrual.objects.filter(
                loan_id__in=group, reversed=False, date__gte=start, date__lte=on
            )
            .order_by()
            .values("loan_id")
            .annotate(t=Sum("posted"))
            .values_list("loan_id", "t")
        )
        for row in (
            JournalLine.objects.filter(
                loan_id__in=group,
                account=Account.FEES,
                entry__entry_type__in=STATEMENT_FEE_ENTRY_TYPES,
                entry__effective_date__gte=start,
                entry__effective_date__lte=on,
            )
            .values("loan_id")
            .annotate(d=Coalesce(Sum("debit"), ZERO), c=Coalesce(Sum("credit"), ZERO))
        ):
            fees[row["loan_id"]] = round_money(row["d"] - row["c"])
        payments.update(
            Payment.objects.filter(
                loan_id__in=group,
                status=Payment.Status.POSTED,
                effective_date__gte=start,
                effective_date__lte=on,
            )
            .order_by()
            .values("loan_id")
            .annotate(t=Sum("amount"))
            .values_list("loan_id", "t")
        )
    closing = _owed(ids, on)
    due = {
        row["pk"]: row
        for row in loans_with_due(Loan.objects.filter(pk__in=ids), on=on).values(*DUE_FIELDS)
    }
    return {
        pk: {
            "period_start": starts[pk],
            "opening_balance": opening.get(pk, ZERO),
            "closing_balance": closing.get(pk, ZERO),
            "payments_total": round_money(payments.get(pk) or ZERO),
            "interest_charged": round_money(interest.get(pk) or ZERO),
            "fees_charged": fees.get(pk, ZERO),
            "past_due_amount": round_money(due[pk]["past_due_amount"] or ZERO),
            "next_due_date": due[pk]["next_installment_due_date"],
            "next_due_amount": round_money(due[pk]["next_installment_amount"] or ZERO),
        }
        for pk in ids
    }


def statement_generate(*, loan: Loan, period_end: date, acting_user=None) -> Statement:
    """The statement for the period ending `period_end` (idempotent per loan and period)."""
    existing = Statement.objects.filter(loan=loan, period_end=period_end).first()
    if existing is not None:
        return existing
    figures = statement_figures(loans=[(loan.pk, loan.disbursed_on)], on=period_end)[loan.pk]
    with transaction.atomic():
        statement = Statement.objects.create(loan=loan, period_end=period_end, **figures)
        html = render_to_string("servicing/statement.html", _context(statement))
        statement.pdf.save(
            f"{loan.loan_number}-{period_end.isoformat()}.pdf",
            ContentFile(html_to_pdf(html)),
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


def _final_installment(statement: Statement) -> dict | None:
    """The final installment when the statement bills it and it was trued up to the loan's
    actual balance: its amount and the adjustment from the original schedule."""
    final = (
        Installment.objects.filter(loan_id=statement.loan_id, schedule__is_current=True)
        .order_by("-number")
        .first()
    )
    due = statement.next_due_date
    if final is None or final.true_up == 0 or (due is not None and due < final.due_date):
        return None
    return {"due_date": final.due_date, "amount": final.total_due, "true_up": final.true_up}


def _context(statement: Statement) -> dict:
    return {
        "loan": statement.loan,
        "statement": statement,
        "activity": _activity(statement),
        "final": _final_installment(statement),
    }


def _activity(statement: Statement) -> list[dict]:
    """The statement's activity lines: the period's posted payments."""
    payments = Payment.objects.filter(
        loan_id=statement.loan_id,
        status=Payment.Status.POSTED,
        effective_date__gte=statement.period_start,
        effective_date__lte=statement.period_end,
    ).order_by("effective_date", "id")
    return [
        {
            "date": p.effective_date,
            "kind": "Payment",
            "description": f"{p.get_method_display()} {p.reference}".strip(),
            "amount": f"-{p.amount}",
        }
        for p in payments
    ]


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
    """The PDF and the e-mail of statements close of business created set-based (idempotent:
    a statement with its PDF is skipped, so a redelivered task renders and e-mails nothing)."""
    done = 0
    for statement in (
        Statement.objects.filter(pk__in=statement_ids, pdf="").select_related("loan").order_by("pk")
    ):
        html = render_to_string("servicing/statement.html", _context(statement))
        statement.pdf.save(
            f"{statement.loan.loan_number}-{statement.period_end.isoformat()}.pdf",
            ContentFile(html_to_pdf(html)),
            save=False,
        )
        # only the delivery that stores the file announces it: the same task delivered twice at
        # once (a redelivery racing a slow worker) renders twice but e-mails once
        stored = statement.pdf.name or ""
        if not Statement.objects.filter(pk=statement.pk, pdf="").update(pdf=stored):
            statement.pdf.storage.delete(stored)
            continue
        _announce(statement.pk)
        done += 1
    return done
