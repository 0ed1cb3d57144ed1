"""The ledger writer: `journal_post_many` is the only code that creates journal rows.

Every entry is checked here (two or more lines, each line one positive side in whole cents,
debits equal credits) and, on PostgreSQL, again by a deferred constraint trigger at commit.
The loans an entry touches must be locked by the caller and passed in: their cached
balances are moved in memory and written back in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection, models
from django.db.models import Count, Sum

from lendcore.core.sqlcopy import copy_rows
from lendcore.core.sqlrows import (
    can_combine_writes,
    insert_row,
    insert_rows,
    insert_with_children,
    update_many,
    update_row,
)
from lendcore.finance.money import ZERO, round_money

from .models import (
    Account,
    DelinquencyHistory,
    EntryType,
    Installment,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Notification,
    Statement,
)

# account -> the cached balance on Loan it moves, and the sign of (debit - credit)
CACHED_BALANCES: dict[str, tuple[str, int]] = {
    Account.PRINCIPAL: ("principal_balance", 1),
    Account.INTEREST: ("interest_balance", 1),
    Account.FEES: ("fees_balance", 1),
    Account.CREDIT: ("credit_balance", -1),
}
BALANCE_FIELDS = tuple(name for name, _ in CACHED_BALANCES.values())
# An entry with at most this many lines is written with one multi-row INSERT (sqlrows).
MAX_SQL_LINES = 16
# A bulk load of at least this many lines is written with COPY (PostgreSQL; `sqlrows.copy_rows`).
COPY_LINES = 2000


_ENTRY_TYPES = frozenset(EntryType.values)
_ACCOUNTS = frozenset(Account.values)


class UnbalancedEntry(ValueError):
    """A programming error: an entry that cannot be posted."""


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def dr(account: str, amount: Decimal) -> Line:
    return Line(account=account, debit=amount)


def cr(account: str, amount: Decimal) -> Line:
    return Line(account=account, credit=amount)


@dataclass
class EntrySpec:
    entry_type: str
    effective_date: date
    lines: list[Line]
    loan_id: int | None = None
    reference: str = ""
    memo: str = ""
    reverses_id: int | None = None
    created: JournalEntry | None = field(default=None, repr=False)

    def nonzero(self) -> EntrySpec:
        """The same entry without zero lines (callers build lines from computed amounts)."""
        self.lines = [line for line in self.lines if line.debit or line.credit]
        return self


def _check(spec: EntrySpec) -> None:
    if spec.entry_type not in _ENTRY_TYPES:
        raise UnbalancedEntry(f"unknown entry type {spec.entry_type!r}")
    if len(spec.lines) < 2:
        raise UnbalancedEntry(f"a {spec.entry_type} entry needs two or more lines")
    debits = credits = ZERO
    for line in spec.lines:
        if line.account not in _ACCOUNTS:
            raise UnbalancedEntry(f"unknown account {line.account!r}")
        for amount in (line.debit, line.credit):
            if amount < 0 or amount != round_money(amount):
                raise UnbalancedEntry(f"line amounts are whole cents >= 0, got {amount}")
        if (line.debit > 0) == (line.credit > 0):
            raise UnbalancedEntry("each line has exactly one positive side")
        debits += line.debit
        credits += line.credit
    if debits != credits:
        raise UnbalancedEntry(f"{spec.entry_type} entry does not balance: {debits} != {credits}")


def journal_post_many(
    *,
    entries: Sequence[EntrySpec],
    business_date: date,
    acting_user=None,
    loans: Iterable[Loan] = (),
    save_loans: bool = True,
    copy_lines: bool = False,
) -> list[JournalEntry]:
    """Post balanced entries (bulk, a constant number of queries) and move cached balances.

    `loans`: the locked, in-memory Loan of every entry that has a loan; their balance fields
    are updated in memory and saved with one bulk UPDATE. `save_loans=False`: the caller
    writes those fields itself before its transaction commits (`LoanBook.save` does, with
    the loan's other fields in one UPDATE). `copy_lines`: a bulk load (a migration's opening
    entries) writes its lines with COPY when there are at least COPY_LINES of them.
    """
    if not entries:
        return []
    by_id = {loan.pk: loan for loan in loans}
    for spec in entries:
        _check(spec)
        if spec.loan_id is not None and spec.loan_id not in by_id:
            raise UnbalancedEntry(f"loan {spec.loan_id} must be locked and passed to the writer")
    user_id = getattr(acting_user, "pk", None)
    created = [
        JournalEntry(
            business_date=business_date,
            effective_date=spec.effective_date,
            entry_type=spec.entry_type,
            loan_id=spec.loan_id,
            reference=spec.reference[:128],
            memo=spec.memo[:255],
            reverses_id=spec.reverses_id,
            created_by_id=user_id,
        )
        for spec in entries
    ]
    few = len(created) == 1  # a payment's entry: one-row SQL, no bulk machinery
    # PostgreSQL: the entry and its lines in one statement (a data-modifying CTE)
    together = few and len(entries[0].lines) <= MAX_SQL_LINES and can_combine_writes()
    if together:
        pass  # written with its lines below
    elif few:
        insert_row(created[0])
    else:
        created = JournalEntry.objects.bulk_create(created)
    rows: list[tuple[int, int | None, str, Decimal, Decimal]] = []
    touched: dict[int, Loan] = {}
    for spec, entry in zip(entries, created, strict=True):
        spec.created = entry
        for line in spec.lines:
            rows.append((entry.pk, spec.loan_id, line.account, line.debit, line.credit))
            if spec.loan_id is not None and line.account in CACHED_BALANCES:
                name, sign = CACHED_BALANCES[line.account]
                loan = by_id[spec.loan_id]
                setattr(loan, name, getattr(loan, name) + sign * (line.debit - line.credit))
                touched[loan.pk] = loan
    if not few and copy_lines and len(rows) >= COPY_LINES:
        # a bulk load (a migration's opening entries): COPY, no line instances
        copy_rows(JournalLine, ("entry", "loan", "account", "debit", "credit"), rows)
    else:
        lines = [
            JournalLine(entry_id=e, loan_id=loan_id, account=a, debit=d, credit=c)
            for e, loan_id, a, d, c in rows
        ]
        if together:
            insert_with_children(created[0], lines, "entry")
        elif few and len(lines) <= MAX_SQL_LINES:
            insert_rows(lines)
        else:
            JournalLine.objects.bulk_create(lines)
    if touched and save_loans:
        if len(touched) == 1:
            (loan,) = touched.values()
            update_row(loan, BALANCE_FIELDS)
        else:
            # one UPDATE ... FROM (VALUES): Django's bulk_update builds a CASE per row and
            # field (19 ms of Python for a close-of-business autopay batch of ten loans)
            update_many(list(touched.values()), BALANCE_FIELDS)
    return created


# The deferred constraint trigger that checks, at commit, the journal rows a transaction wrote
# (migrations 0002, 0005, 0007).
LEDGER_CHECK_CONSTRAINT = "servicing_journalcheck_balanced"


def journal_checks_now() -> bool:
    """Run the database's commit-time check of the journal rows the transaction wrote so far,
    now (PostgreSQL: every entry touched exists, has two lines or more and balances), raising
    as the COMMIT would. The check stays deferred for what the transaction writes after: only
    the pending check runs early. Close of business calls it to time the check as a step of
    its own instead of inside its COMMIT. Returns whether the database checked anything
    (SQLite has only `journal_post_many`'s own check)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {LEDGER_CHECK_CONSTRAINT} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {LEDGER_CHECK_CONSTRAINT} DEFERRED")
    return True


def journal_post(
    *,
    entry_type: str,
    effective_date: date,
    lines: list[Line],
    business_date: date,
    loan: Loan | None = None,
    reference: str = "",
    memo: str = "",
    reverses: JournalEntry | None = None,
    acting_user=None,
) -> JournalEntry:
    """Post one balanced entry (see `journal_post_many`)."""
    spec = EntrySpec(
        entry_type=entry_type,
        effective_date=effective_date,
        lines=lines,
        loan_id=loan.pk if loan is not None else None,
        reference=reference,
        memo=memo,
        reverses_id=reverses.pk if reverses is not None else None,
    )
    return journal_post_many(
        entries=[spec],
        business_date=business_date,
        acting_user=acting_user,
        loans=[loan] if loan is not None else [],
    )[0]


def reversal_specs(
    entries: Sequence[JournalEntry], *, effective_date: date | None = None, memo: str = ""
) -> list[EntrySpec]:
    """Mirror entries (debits <-> credits) linked to their originals; lines fetched in one query.

    Whole entries of one loan only: a loan's share of close of business's shared accrual
    entries is reversed by `accrual.accrual_reversal_specs`."""
    if not entries:
        return []
    if any(entry.loan_id is None and entry.entry_type == EntryType.ACCRUAL for entry in entries):
        raise UnbalancedEntry("a shared accrual entry is reversed per loan, from its accruals")
    lines_by_entry: dict[int, list[Line]] = {entry.pk: [] for entry in entries}
    for line in JournalLine.objects.filter(entry_id__in=list(lines_by_entry)).order_by("id"):
        lines_by_entry[line.entry_id].append(
            Line(account=line.account, debit=line.credit, credit=line.debit)
        )
    return [
        EntrySpec(
            entry_type=EntryType.REVERSAL,
            effective_date=effective_date or entry.effective_date,
            lines=lines_by_entry[entry.pk],
            loan_id=entry.loan_id,
            reference=entry.reference,
            memo=memo or f"Reverses JE-{entry.pk} ({entry.entry_type})",
            reverses_id=entry.pk,
        )
        for entry in entries
    ]


def ledger_balances(*, loan_ids: Iterable[int] | None = None) -> dict[int, dict[str, Decimal]]:
    """Each loan's balances as the ledger says (for the check; reads are O(history))."""
    qs = JournalLine.objects.filter(loan__isnull=False, account__in=list(CACHED_BALANCES))
    if loan_ids is not None:
        qs = qs.filter(loan_id__in=list(loan_ids))
    result: dict[int, dict[str, Decimal]] = {}
    rows = qs.values("loan_id", "account").annotate(d=Sum("debit"), c=Sum("credit"))
    for row in rows:
        name, sign = CACHED_BALANCES[row["account"]]
        amounts = result.setdefault(row["loan_id"], dict.fromkeys(BALANCE_FIELDS, ZERO))
        amounts[name] = round_money(sign * ((row["d"] or ZERO) - (row["c"] or ZERO)))
    return result


def loan_suspense_balance(loan_id: int) -> Decimal:
    """Interest of a non-accrual loan held in suspense (accrued, not recognised as income):
    its suspense lines, credits less debits. Every suspense line names its loan (close of
    business posts a non-accrual loan's accrual with its own suspense line)."""
    sums = JournalLine.objects.filter(loan_id=loan_id, account=Account.SUSPENSE).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    return round_money((sums["c"] or ZERO) - (sums["d"] or ZERO))


def loans_with_suspense_when_closed() -> list[tuple[str, Decimal]]:
    """(loan number, suspense) of every paid-off or charged-off loan still holding suspended
    interest: a closed loan's interest was either collected (income) or reversed."""
    rows = (
        JournalLine.objects.filter(account=Account.SUSPENSE, loan__isnull=False)
        .exclude(loan__status=Loan.Status.ACTIVE)
        .values("loan__loan_number")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("loan__loan_number")
    )
    found = []
    for row in rows:
        held = round_money((row["c"] or ZERO) - (row["d"] or ZERO))
        if held != 0:
            found.append((row["loan__loan_number"], held))
    return found


def entries_unbalanced() -> list[tuple[int, Decimal, Decimal, int]]:
    """(entry id, debits, credits, line count) of every entry that does not balance."""
    rows = (
        JournalEntry.objects.annotate(
            d=Sum("lines__debit"), c=Sum("lines__credit"), n=Count("lines")
        )
        .values_list("id", "d", "c", "n")
        .order_by("id")
    )
    bad = []
    for entry_id, debit, credit, n in rows.iterator(chunk_size=5000):
        debit = round_money(debit or ZERO)
        credit = round_money(credit or ZERO)
        if debit != credit or n < 2:
            bad.append((entry_id, debit, credit, n))
    return bad


def trial_balance() -> dict[str, Decimal]:
    """account -> debits minus credits over the whole ledger (sums to zero when sound)."""
    rows = JournalLine.objects.values("account").annotate(d=Sum("debit"), c=Sum("credit"))
    return {
        row["account"]: round_money((row["d"] or ZERO) - (row["c"] or ZERO))
        for row in rows.order_by("account")
    }


# The rows written in bulk every night with no database foreign key (see their models): the
# column, the model the row it names must exist in, and what a dangling one is called.
UNCHECKED_REFERENCES: tuple[tuple[type[models.Model], str, type[models.Model], str], ...] = (
    (JournalLine, "loan_id", Loan, "journal lines name a loan"),
    (InterestAccrual, "loan_id", Loan, "accrual rows name a loan"),
    (LoanEvent, "loan_id", Loan, "loan events name a loan"),
    (DelinquencyHistory, "loan_id", Loan, "delinquency history rows name a loan"),
    (Statement, "loan_id", Loan, "statements name a loan"),
    (Notification, "loan_id", Loan, "notifications name a loan"),
    (Notification, "installment_id", Installment, "notifications name an installment"),
)


def rows_naming_what_does_not_exist() -> list[str]:
    """A line for each kind of row in `UNCHECKED_REFERENCES` some of which name a row that
    does not exist."""
    problems = []
    for model, column, target, label in UNCHECKED_REFERENCES:
        dangling = (
            model._default_manager.filter(**{f"{column}__isnull": False})
            .exclude(**{f"{column}__in": target._default_manager.values("pk")})
            .count()
        )
        if dangling:
            problems.append(f"{dangling} {label} that does not exist")
    return problems


def ledger_problems() -> list[str]:
    """Everything that is off in the ledger, one line each; empty when it reconciles."""
    problems: list[str] = []
    for entry_id, debit, credit, n in entries_unbalanced():
        problems.append(
            f"JE-{entry_id} does not balance: debits {debit}, credits {credit}, {n} lines"
        )
    # The rows close of business writes in bulk keep no database foreign key (see models).
    problems += rows_naming_what_does_not_exist()
    for loan_number, held in loans_with_suspense_when_closed():
        problems.append(f"{loan_number} is closed with {held} of interest still in suspense")
    tb = trial_balance()
    total = sum(tb.values(), ZERO)
    if total != 0:
        problems.append(f"trial balance sums to {total}, not 0.00")
    ledger = ledger_balances()
    fields = ["id", "loan_number", *BALANCE_FIELDS]
    for row in Loan.objects.values(*fields).order_by("id").iterator(chunk_size=5000):
        expected = ledger.get(row["id"], dict.fromkeys(BALANCE_FIELDS, ZERO))
        for name in BALANCE_FIELDS:
            cached = round_money(row[name])
            if cached != expected[name]:
                problems.append(
                    f"{row['loan_number']} {name}: cached {cached}, ledger {expected[name]}"
                )
    return problems
