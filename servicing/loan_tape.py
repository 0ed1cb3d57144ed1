"""The loan tape: one row per loan disbursed by a business date D, its state as of D.

One column list (`COLUMNS`) defines the tape: the CSV header and cells, the Parquet schema
(servicing/loan_tape_export.py) and the documentation (docs/loan_tape.md, pinned by a test)
all read it. `loan_tape_rows` is the one reader; the `GET /api/v1/loan-tape/` export, the
staff page, `manage.py export_loan_tape` and the `loan_tape` report (issue 13) use it.

Set-based: loans are read in keyset chunks (`id > last ORDER BY id LIMIT n`), and each chunk
costs five queries whatever its size, each over the chunk's id range: the loans, their
journal-line sums, and (one window query each, ROW_NUMBER() OVER (PARTITION BY loan_id) = 1)
their last status change, their last delinquency-history row and their next installment as
of D. All of it is read from the read replica when one
is configured (lendcore.core.replica): a report over the whole book.

As of D:
- balances are the loan's journal lines whose entry is effective on or before D (the ledger
  is the truth; cached balances on the loan are today's only);
- paid to date: what payments (and the borrower's credit applied) credited to principal,
  interest and fees, less what reversals of them debited back;
- status: the last status change recorded on or before D (the loan's timeline), else active;
- days past due and bucket: for D on or after the business date, the close-of-business rule
  over the loan row (D minus the oldest unpaid due date); before it, the last delinquency
  history row on or before D (close of business writes one per bucket change) with the days
  since added, kept within that row's bucket (a partial payment may have moved the oldest
  unpaid date without a bucket change); 0 and `current` for a loan not active at D;
- next due: the first installment due after D in the newest schedule version effective on or
  before D, and its scheduled amount (principal, interest and fees due); none for a loan not
  active at D.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When, Window
from django.db.models.functions import Coalesce, RowNumber

from lendcore.core.replica import replica_alias
from lendcore.finance.money import ZERO, round_money

from .cob import config as cob_config
from .errors import ServicingValidationError
from .models import (
    Account,
    DelinquencyHistory,
    EntryType,
    Installment,
    JournalLine,
    Loan,
    LoanEvent,
)
from .selectors import business_date_get

CHUNK_SIZE = 5000
# Which date of a journal entry puts it in the books of D: its effective date (the tape:
# the past as known today) or its business date (as recorded at the close of D).
EFFECTIVE, RECORDED = "effective_date", "business_date"

# Column kinds: how each is typed in Parquet and written in CSV (loan_tape_export).
STR, INT, DATE, BOOL = "string", "integer", "date", "boolean"
MONEY = "decimal(18,2)"
RATE = "decimal(14,10)"
PCT = "decimal(9,4)"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    meaning: str
    nullable: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("loan_id", INT, "The loan's id in LendCore (the API's `loan_id`)."),
    Column("loan_number", STR, "The loan number shown to staff and the borrower."),
    Column("external_id", STR, "The integrator's own id for the loan, if set.", nullable=True),
    Column("product_code", STR, "The product code copied at boarding."),
    Column("product_name", STR, "The product name copied at boarding."),
    Column("borrower_id", INT, "The borrower's id (no name, contact or SSN on the tape)."),
    Column("currency", STR, "ISO 4217 currency code of every amount of the row."),
    Column("principal_amount", MONEY, "Principal disbursed (the original loan amount)."),
    Column("annual_rate", RATE, "Nominal annual interest rate as a fraction (0.068 = 6.8 %)."),
    Column("apr", PCT, "APR in percent (Regulation Z), when computed.", nullable=True),
    Column("term_periods", INT, "Number of scheduled installments at boarding."),
    Column("frequency", STR, "Installment frequency (monthly, biweekly, ...)."),
    Column("interest_model", STR, "daily_simple or scheduled."),
    Column("disbursed_on", DATE, "Disbursement date."),
    Column("first_due_date", DATE, "First installment's due date at boarding."),
    Column("maturity_date", DATE, "Maturity date (last installment due)."),
    Column("status", STR, "active, paid_off or charged_off, as of the tape date."),
    Column("principal_outstanding", MONEY, "Principal receivable per the ledger as of the date."),
    Column("interest_receivable", MONEY, "Interest receivable per the ledger as of the date."),
    Column("fees_receivable", MONEY, "Fees receivable per the ledger as of the date."),
    Column("total_outstanding", MONEY, "Principal + interest + fees outstanding."),
    Column("credit_balance", MONEY, "Borrower credit balance (overpayments) as of the date."),
    Column("principal_paid", MONEY, "Principal paid to date (payments less reversals)."),
    Column("interest_paid", MONEY, "Interest paid to date (payments less reversals)."),
    Column("fees_paid", MONEY, "Fees paid to date (payments less reversals)."),
    Column("dpd", INT, "Days past due as of the date."),
    Column("delinquency_bucket", STR, "Delinquency bucket as of the date (current, 1-29, ...)."),
    Column("next_due_date", DATE, "First installment due after the date.", nullable=True),
    Column("next_due_amount", MONEY, "That installment's scheduled amount.", nullable=True),
    Column("charged_off", BOOL, "Whether the loan is charged off as of the date."),
    Column("charged_off_on", DATE, "Charge-off date, when charged off.", nullable=True),
)
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)

# Entries whose credits to principal, interest and fees are the borrower paying.
PAID_ENTRY_TYPES = (EntryType.PAYMENT, EntryType.CREDIT_APPLIED)
# The loan's accounts the tape reads, and the column each one's balance goes to
# (debit-normal receivables; the credit balance is credit-normal).
BALANCE_COLUMNS: dict[str, tuple[str, str]] = {
    Account.PRINCIPAL: ("principal_outstanding", "principal_paid"),
    Account.INTEREST: ("interest_receivable", "interest_paid"),
    Account.FEES: ("fees_receivable", "fees_paid"),
}

_LOAN_FIELDS = (
    "id",
    "loan_number",
    "external_id",
    "product_code",
    "product_name",
    "borrower_id",
    "currency",
    "principal_amount",
    "annual_rate",
    "apr",
    "n_periods",
    "frequency",
    "interest_model",
    "disbursed_on",
    "first_due_date",
    "maturity_date",
    "status",
    "oldest_unpaid_due_date",
    "charged_off_on",
)


def _loans(*, as_of: date, product: str | None, loan_ids: list[int] | None, alias: str):
    qs = Loan.objects.using(alias).filter(disbursed_on__lte=as_of)
    if product:
        qs = qs.filter(product_code=product)
    if loan_ids is not None:
        qs = qs.filter(id__in=loan_ids)
    return qs.order_by("id").values(*_LOAN_FIELDS)


def _first_per_loan(qs, *order_by, fields: tuple[str, ...]) -> dict[int, dict[str, Any]]:
    """{loan id: the first row of `qs` for that loan in `order_by`}: one query, a window
    (ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY ...) = 1)."""
    ranked = qs.annotate(
        rank=Window(RowNumber(), partition_by=[F("loan_id")], order_by=list(order_by))
    ).filter(rank=1)
    return {row["loan_id"]: row for row in ranked.values("loan_id", *fields)}


def _as_of_rows(
    ids: list[int], *, as_of: date, alias: str
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """For the loans with ids in ids[0]..ids[-1]: (the last status change on or before D,
    the last delinquency-history row on or before D, the first installment due after D of
    the newest schedule version effective by D), each by loan id."""
    in_range = {"loan_id__gte": ids[0], "loan_id__lte": ids[-1]}
    status = _first_per_loan(
        LoanEvent.objects.using(alias).filter(
            **in_range, kind=LoanEvent.Kind.STATUS, business_date__lte=as_of
        ),
        F("id").desc(),
        fields=("to_status",),
    )
    history = _first_per_loan(
        DelinquencyHistory.objects.using(alias).filter(**in_range, business_date__lte=as_of),
        F("business_date").desc(),
        fields=("business_date", "to_bucket", "dpd"),
    )
    upcoming = _first_per_loan(
        Installment.objects.using(alias).filter(
            **in_range, due_date__gt=as_of, schedule__effective_date__lte=as_of
        ),
        F("schedule__version").desc(),
        F("due_date").asc(),
        F("number").asc(),
        fields=("due_date", "principal_due", "interest_due", "fee_due"),
    )
    return status, history, upcoming


def _balances(
    loan_ids: list[int], *, as_of: date, basis: str, alias: str
) -> dict[int, dict[str, Decimal]]:
    """{loan id: {column: amount}} from the journal lines effective (`basis` EFFECTIVE) or
    recorded (RECORDED) on or before D."""
    paid = Q(entry__entry_type__in=PAID_ENTRY_TYPES) | Q(
        entry__entry_type=EntryType.REVERSAL, entry__reverses__entry_type__in=PAID_ENTRY_TYPES
    )
    money = DecimalField(max_digits=18, decimal_places=2)
    rows = (
        JournalLine.objects.using(alias)
        .filter(
            loan_id__gte=loan_ids[0],
            loan_id__lte=loan_ids[-1],
            account__in=[*BALANCE_COLUMNS, Account.CREDIT],
            **{f"entry__{basis}__lte": as_of},
        )
        .values("loan_id", "account")
        .annotate(
            d=Sum("debit"),
            c=Sum("credit"),
            paid=Sum(
                Case(
                    When(paid, then=F("credit") - F("debit")),
                    default=Value(ZERO),
                    output_field=money,
                ),
                output_field=money,
            ),
        )
        .order_by()
    )
    wanted = set(loan_ids)
    result: dict[int, dict[str, Decimal]] = {}
    for row in rows:
        if row["loan_id"] not in wanted:
            continue
        amounts = result.setdefault(row["loan_id"], {})
        net = (row["d"] or ZERO) - (row["c"] or ZERO)
        if row["account"] == Account.CREDIT:
            amounts["credit_balance"] = round_money(-net)
            continue
        balance_column, paid_column = BALANCE_COLUMNS[row["account"]]
        amounts[balance_column] = round_money(net)
        amounts[paid_column] = round_money(row["paid"] or ZERO)
    return result


class Buckets:
    """The delinquency buckets (COB_DELINQUENCY_BUCKETS), read once per tape."""

    def __init__(self) -> None:
        self.ranges = cob_config.buckets()
        self.upper = {code: hi for code, _lo, hi in self.ranges}
        self.current = self.of(0)

    def of(self, dpd: int) -> str:
        for code, lo, hi in self.ranges:
            if dpd >= lo and (hi is None or dpd <= hi):
                return code
        return self.ranges[-1][0]


def _delinquency(
    loan: Mapping[str, Any],
    history: Mapping[str, Any] | None,
    *,
    as_of: date,
    live: bool,
    status: str,
    buckets: Buckets,
) -> tuple[int, str]:
    """(days past due, bucket) as of D (see the module's docstring)."""
    if status != Loan.Status.ACTIVE:
        return 0, buckets.current
    if live:
        oldest = loan["oldest_unpaid_due_date"]
        dpd = (as_of - oldest).days if oldest and oldest < as_of else 0
        return dpd, buckets.of(dpd)
    if history is None or history["dpd"] == 0:
        return 0, history["to_bucket"] if history else buckets.current
    bucket = history["to_bucket"]
    dpd = history["dpd"] + (as_of - history["business_date"]).days
    hi = buckets.upper.get(bucket)
    return (min(dpd, hi) if hi is not None else dpd), bucket


def loan_tape_rows(
    *,
    as_of: date,
    product: str | None = None,
    loan_ids: list[int] | None = None,
    basis: str = EFFECTIVE,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[dict[str, Any]]:
    """Each loan disbursed on or before `as_of` (of `product`, among `loan_ids`, when given),
    ordered by id, as a dict keyed by `COLUMN_NAMES` (money as Decimal, dates as date, None
    when empty). The tape reads every loan; the loan as-of view (servicing.loan_as_of) one,
    with `basis` RECORDED: balances as the books stood at the close of D, reversals and
    backdated entries recorded after D left out (EFFECTIVE, the tape's: as known today).

    Refuses (400, naming `as_of`) a date after the business date: the books hold nothing
    yet for it. Checked here, before the first row is asked for."""
    business_date = business_date_get()
    if as_of > business_date:
        raise ServicingValidationError.field(
            "as_of", f"Must be on or before the business date ({business_date.isoformat()})."
        )
    return _rows(
        as_of=as_of,
        business_date=business_date,
        product=product,
        loan_ids=loan_ids,
        basis=basis,
        chunk_size=chunk_size,
    )


def _rows(
    *,
    as_of: date,
    business_date: date,
    product: str | None,
    loan_ids: list[int] | None,
    basis: str,
    chunk_size: int,
) -> Iterator[dict[str, Any]]:
    alias = replica_alias()
    live = as_of >= business_date
    buckets = Buckets()
    loans = _loans(as_of=as_of, product=product, loan_ids=loan_ids, alias=alias)
    last = 0
    while True:
        chunk = list(loans.filter(id__gt=last)[:chunk_size])
        if not chunk:
            return
        last = chunk[-1]["id"]
        ids = [row["id"] for row in chunk]
        balances = _balances(ids, as_of=as_of, basis=basis, alias=alias)
        # (live: status and delinquency are the loan row's; only the installment is used)
        status, history, upcoming = _as_of_rows(ids, as_of=as_of, alias=alias)
        for loan in chunk:
            loan_id = loan["id"]
            yield _row(
                loan,
                balances.get(loan_id, {}),
                status.get(loan_id),
                history.get(loan_id),
                upcoming.get(loan_id),
                as_of=as_of,
                live=live,
                buckets=buckets,
            )
        if len(chunk) < chunk_size:
            return


def _row(
    loan: dict[str, Any],
    amounts: dict[str, Decimal],
    change: Mapping[str, Any] | None,
    history: Mapping[str, Any] | None,
    installment: Mapping[str, Any] | None,
    *,
    as_of: date,
    live: bool,
    buckets: Buckets,
) -> dict[str, Any]:
    recorded = change["to_status"] if change else Loan.Status.ACTIVE
    status = loan["status"] if live else recorded
    dpd, bucket = _delinquency(
        loan, history, as_of=as_of, live=live, status=status, buckets=buckets
    )
    money = {
        name: amounts.get(name, ZERO)
        for name in (
            "principal_outstanding",
            "interest_receivable",
            "fees_receivable",
            "credit_balance",
            "principal_paid",
            "interest_paid",
            "fees_paid",
        )
    }
    active = status == Loan.Status.ACTIVE
    charged_off = status == Loan.Status.CHARGED_OFF
    next_due = installment if active else None
    return {
        "loan_id": loan["id"],
        "loan_number": loan["loan_number"],
        "external_id": loan["external_id"],
        "product_code": loan["product_code"],
        "product_name": loan["product_name"],
        "borrower_id": loan["borrower_id"],
        "currency": loan["currency"],
        "principal_amount": loan["principal_amount"],
        "annual_rate": loan["annual_rate"],
        "apr": loan["apr"],
        "term_periods": loan["n_periods"],
        "frequency": loan["frequency"],
        "interest_model": loan["interest_model"],
        "disbursed_on": loan["disbursed_on"],
        "first_due_date": loan["first_due_date"],
        "maturity_date": loan["maturity_date"],
        "status": status,
        **money,
        "total_outstanding": money["principal_outstanding"]
        + money["interest_receivable"]
        + money["fees_receivable"],
        "dpd": dpd,
        "delinquency_bucket": bucket,
        "next_due_date": next_due["due_date"] if next_due else None,
        "next_due_amount": (
            next_due["principal_due"] + next_due["interest_due"] + next_due["fee_due"]
            if next_due
            else None
        ),
        "charged_off": charged_off,
        "charged_off_on": loan["charged_off_on"] if charged_off else None,
    }


def ledger_account_balance_as_of(*, account: str, as_of: date) -> Decimal:
    """Debits less credits of one account over every line effective on or before `as_of`
    (the tape's cross-check: its principal column sums to the principal account's)."""
    sums = (
        JournalLine.objects.using(replica_alias())
        .filter(account=account, entry__effective_date__lte=as_of)
        .aggregate(d=Coalesce(Sum("debit"), Value(ZERO)), c=Coalesce(Sum("credit"), Value(ZERO)))
    )
    return round_money(sums["d"] - sums["c"])
