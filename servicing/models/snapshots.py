"""Portfolio snapshots: what the book was at the end of each business date, in aggregate, so
that trends (PAR over two years, aging at a month end) read a few hundred rows, not every
loan. Written by close of business for the day it closes (`servicing.snapshots`); rebuilt
for past dates from the ledger by `manage.py backfill_snapshots`."""

from __future__ import annotations

from django.db import models

from ._fields import _money


class PortfolioSnapshot(models.Model):
    """The loans of one product in one bucket and status at the end of a business date:
    how many, and their principal, interest and fees outstanding."""

    business_date = models.DateField()
    product_code = models.CharField(max_length=64)
    bucket = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    loans = models.PositiveIntegerField()
    principal = _money()
    interest = _money()
    fees = _money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "product_code", "bucket", "status"],
                name="portfolio_snapshot_one_row_per_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.product_code} {self.bucket} {self.status}"


class PortfolioActivity(models.Model):
    """One product's flows on a business date: loans disbursed, payments received,
    charge-offs and recoveries (from the ledger and the payments, as posted that day)."""

    business_date = models.DateField()
    product_code = models.CharField(max_length=64)
    originations = models.PositiveIntegerField(default=0)
    originated = _money()
    payments = models.PositiveIntegerField(default=0)
    paid = _money()
    charge_offs = models.PositiveIntegerField(default=0)
    charged_off = _money()
    recoveries = _money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "product_code"],
                name="portfolio_activity_one_row_per_product_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.product_code}"


class LoanMonthEnd(models.Model):
    """One loan at the end of a month (the close of its last day): what roll rates and
    vintage curves need of it, so that they compare month ends without the ledger. Written
    for every loan disbursed by that day (`servicing.month_ends`)."""

    month_end = models.DateField()
    # no index of its own: the unique (month_end, loan) serves every read, and 24 million rows
    # (a million loans, two years) need no second one
    loan = models.ForeignKey(
        "servicing.Loan", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    product_code = models.CharField(max_length=64)
    disbursed_on = models.DateField()
    principal_amount = _money()  # disbursed (originated) principal
    status = models.CharField(max_length=16)
    bucket = models.CharField(max_length=16)  # the `current` bucket for a loan not active
    dpd = models.PositiveIntegerField(default=0)  # 0 for a loan not active
    principal = _money()  # principal outstanding
    charged_off_principal = _money()  # principal written off, for a loan charged off by then

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month_end", "loan"], name="loan_month_end_one_row_per_loan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month_end} loan {self.loan_id}"


class RollRateCell(models.Model):
    """Loans of one product active in `from_bucket` at the previous month end, by where they
    are at `month_end` (`to_state`: their bucket if still active, else their status): how
    many, and their principal at the previous month end."""

    month_end = models.DateField()
    product_code = models.CharField(max_length=64)
    from_bucket = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    loans = models.PositiveIntegerField()
    principal = _money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month_end", "product_code", "from_bucket", "to_state"],
                name="roll_rate_one_row_per_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month_end} {self.product_code} {self.from_bucket}>{self.to_state}"


class VintageCell(models.Model):
    """The loans of one product disbursed in one month (`origination_month`, its first day)
    as they stand at `month_end`, `months_on_book` months later: how many, the principal
    disbursed, the principal charged off by then, and the principal of those 30 or more
    days past due at `month_end`."""

    month_end = models.DateField()
    product_code = models.CharField(max_length=64)
    origination_month = models.DateField()
    months_on_book = models.PositiveIntegerField()
    loans = models.PositiveIntegerField()
    originated = _money()
    charged_off = _money()
    dpd30_principal = _money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month_end", "product_code", "origination_month"],
                name="vintage_one_row_per_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month_end} {self.product_code} {self.origination_month}"


class DailyTotalsDay(models.Model):
    """A business date whose `LedgerDayTotal` and `PaymentDayTotal` rows are written (by
    close of business for the day it closed, or by `manage.py backfill_ledger_totals`). A
    date without this row is read from the journal lines and payments themselves, so a day
    never written (a book from before the totals, a day skipped) is never counted as zero."""

    business_date = models.DateField(unique=True)
    source = models.CharField(max_length=8)  # cob | backfill
    written_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.business_date} ({self.source})"


class LedgerDayTotal(models.Model):
    """The journal lines of one business date, product (the line's loan's; blank for a line
    without a loan), entry type and account: debits, credits, how many lines and how many
    entries. Close of business's shared accrual income credit is on its products' rows
    (`servicing.daily_totals`). Entry type is in the key so disbursements read their own rows."""

    business_date = models.DateField()
    product_code = models.CharField(max_length=64, blank=True)
    entry_type = models.CharField(max_length=16)
    account = models.CharField(max_length=8)
    debit = _money()
    credit = _money()
    lines = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "product_code", "entry_type", "account"],
                name="ledger_day_total_one_row_per_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.product_code} {self.entry_type} {self.account}"


class PaymentDayTotal(models.Model):
    """The payments posted on one business date, of one product, by one method: how many
    and how much (as received; what was reversed since is read from the payments)."""

    business_date = models.DateField()
    product_code = models.CharField(max_length=64)
    method = models.CharField(max_length=12)
    payments = models.PositiveIntegerField(default=0)
    amount = _money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "product_code", "method"],
                name="payment_day_total_one_row_per_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.product_code} {self.method}"
