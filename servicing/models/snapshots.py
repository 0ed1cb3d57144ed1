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
