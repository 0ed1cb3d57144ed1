"""The immutable double-entry ledger (journal entries and lines) and daily accruals."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ._fields import _choices_check, _exact, _money
from .loans import Loan


class Account(models.TextChoices):
    """The chart of accounts (code, name). Normal side: assets/expense debit, others credit."""

    CASH = "1000", "Cash / clearing"
    PRINCIPAL = "1100", "Loan principal receivable"
    INTEREST = "1110", "Interest receivable"
    FEES = "1120", "Fees receivable"
    CREDIT = "2100", "Borrower credit balance"
    SUSPENSE = "2900", "Suspense"
    INTEREST_INCOME = "4100", "Interest income"
    FEE_INCOME = "4200", "Fee income"
    RECOVERIES = "4300", "Recoveries income"
    CHARGE_OFF = "5100", "Charge-off expense"
    # The other side of migrated loans' opening balances (portfolio import): what the
    # lender's previous system carried, brought into these books without moving cash.
    MIGRATION = "3900", "Migration clearing"


DEBIT_NORMAL_ACCOUNTS = frozenset(
    {Account.CASH, Account.PRINCIPAL, Account.INTEREST, Account.FEES, Account.CHARGE_OFF}
)


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableLedgerError("Journal rows are never updated; post a reversing entry.")

    def delete(self):
        raise ImmutableLedgerError("Journal rows are never deleted; post a reversing entry.")


class ImmutableLedgerError(RuntimeError):
    pass


class _Immutable(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableLedgerError(f"{type(self).__name__} rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableLedgerError(f"{type(self).__name__} rows are never deleted.")


class EntryType(models.TextChoices):
    DISBURSEMENT = "disbursement", "Disbursement"
    ACCRUAL = "accrual", "Interest accrual"
    PAYMENT = "payment", "Payment"
    RECOVERY = "recovery", "Recovery"
    FEE = "fee", "Fee"
    FEE_WAIVER = "fee_waiver", "Fee waiver"
    CHARGE_OFF = "charge_off", "Charge-off"
    REFUND = "refund", "Credit refund"
    REVERSAL = "reversal", "Reversal"
    # A late fee whose condition no longer holds after a backdated payment or a reversal.
    FEE_REVERSAL = "fee_reversal", "Fee reversal"
    # The borrower's credit balance applied to what the loan owes.
    CREDIT_APPLIED = "credit_applied", "Credit applied"
    # Suspended interest of a non-accrual loan recognised as income (collected, or the loan
    # returned to accrual).
    SUSPENSE_RELEASE = "suspense_release", "Suspended interest released"
    # A migrated loan's opening balances, against the migration clearing account.
    MIGRATION = "migration", "Opening balance (migration)"


class JournalEntry(_Immutable):
    Type = EntryType

    business_date = models.DateField()
    effective_date = models.DateField()
    entry_type = models.CharField(max_length=16, choices=Type.choices)
    # Indexed by (loan, id) below: no separate FK index (the nightly accrual inserts a
    # million entries; every redundant index costs).
    loan = models.ForeignKey(
        Loan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        db_index=False,
    )
    reference = models.CharField(max_length=128, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        constraints = [_choices_check("journal_entry_type_valid", "entry_type", EntryType)]
        indexes = [
            models.Index(fields=["loan", "id"]),
            models.Index(fields=["business_date"]),
            models.Index(fields=["effective_date"]),
        ]

    def __str__(self) -> str:
        return f"JE-{self.pk} {self.entry_type}"


class JournalLine(_Immutable):
    # No per-row database foreign key (a check per line, 60 ms for a partition's 20,000
    # nightly accrual lines): the ledger's commit-time check (migration 0007) finds that
    # every entry a transaction's lines name exists, once per entry; entries are never
    # deleted (trigger), so it holds from then on.
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    # Indexed by (loan, account) below. No database foreign key: close of business inserts
    # a line per loan a night and a per-row check of a loan that is never deleted (PROTECT)
    # cost more than the insert; `ledger_check` finds a line whose loan is missing.
    loan = models.ForeignKey(
        Loan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_lines",
        db_index=False,
        db_constraint=False,
    )
    account = models.CharField(max_length=8, choices=Account.choices)
    debit = _money()
    credit = _money()

    class Meta:
        ordering = ["id"]
        constraints = [
            _choices_check("journal_line_account_valid", "account", Account),
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0), name="journal_line_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="journal_line_one_side",
            ),
        ]
        indexes = [models.Index(fields=["loan", "account"])]

    def __str__(self) -> str:
        return f"{self.account} Dr {self.debit} Cr {self.credit}"


class InterestAccrual(models.Model):
    """One day's interest of one loan: exact to 6 places; `posted` is what reached the ledger.

    Idempotent per (loan, date) among live rows; a replay marks rows `reversed` (their journal
    entries get reversing entries) and accrues again.
    """

    # Indexed by the unique (loan, date) of live rows. No database foreign keys, as for
    # journal lines: one row per loan a night; `ledger_check` finds dangling references.
    loan = models.ForeignKey(
        Loan,
        on_delete=models.PROTECT,
        related_name="accruals",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField()
    principal_base = _money()
    amount_exact = _exact()
    cumulative_exact = _exact()
    posted = _money()
    cumulative_posted = _money()
    # Credited to suspense (a non-accrual loan) rather than interest income: close of
    # business posts the income side of a day's accrual as one line per account for the
    # whole range of loans, so a loan's reversal takes its side from here.
    to_suspense = models.BooleanField(default=False)
    # Close of business posts one entry a day for a range of loans (a line pair per loan),
    # so many accrual rows share an entry.
    entry = models.ForeignKey(
        JournalEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accruals",
        db_index=False,
        db_constraint=False,
    )
    reversed = models.BooleanField(default=False)

    class Meta:
        ordering = ["loan_id", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "date"], condition=Q(reversed=False), name="accrual_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.date} {self.amount_exact}"


# --------------------------------------------------------------------------- payments, fees
