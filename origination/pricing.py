"""Product pricing and the finance kernel, in one place: tiers, fees, quotes and boarding terms.

The TILA arithmetic (amount financed, finance charge, APR) is `lendcore.quotes.services
.quote_build`'s; the schedule is `lendcore.finance`'s. Nothing here rounds money except
through `round_money`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lendcore.finance.money import round_money
from lendcore.finance.schedule import Installment, LoanTerms
from lendcore.quotes.services import Fee, Quote, quote_build
from servicing.types import DEFAULT_ALLOCATION_ORDER, LateFeePolicy, LoanBoarding

from .models import ProductVersion

HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Tier:
    min_score: int
    max_score: int
    rate: Decimal
    max_amount: Decimal


def tiers_of(version: ProductVersion) -> list[Tier]:
    return [
        Tier(
            min_score=int(t["min_score"]),
            max_score=int(t["max_score"]),
            rate=Decimal(str(t["rate"])),
            max_amount=Decimal(str(t["max_amount"])),
        )
        for t in (version.pricing_tiers or [])
    ]


def tier_for(version: ProductVersion, score: int | None) -> Tier | None:
    """The pricing tier of a score; a product without tiers prices everyone at its base rate."""
    tiers = tiers_of(version)
    if not tiers:
        return Tier(0, 10_000, version.base_rate, version.max_amount)
    if score is None:
        return None
    for tier in tiers:
        if tier.min_score <= score <= tier.max_score:
            return tier
    return None


def fallback_rate(version: ProductVersion) -> Decimal:
    """The rate used when no tier applies (no file, below every band): the highest one."""
    tiers = tiers_of(version)
    return max((t.rate for t in tiers), default=version.base_rate)


def origination_fee(version: ProductVersion, amount: Decimal) -> Decimal:
    value = version.origination_fee_value or Decimal("0")
    if version.origination_fee_basis == ProductVersion.FeeBasis.PERCENT:
        return round_money(amount * value / HUNDRED)
    return round_money(value)


def quote_for(
    version: ProductVersion,
    *,
    amount: Decimal,
    annual_rate: Decimal,
    term: int,
    frequency: str,
    disbursement_date: date,
) -> Quote:
    """The schedule and Truth in Lending figures of these terms under the product's policy."""
    fee = origination_fee(version, amount)
    fees = [Fee(name="origination", amount=fee, kind=version.origination_fee_timing)] if fee else []
    return quote_build(
        principal=amount,
        annual_rate_pct=annual_rate,
        term=term,
        frequency=frequency,
        disbursement_date=disbursement_date,
        amortization=version.amortization,
        interest_method=version.interest_method,
        day_count=version.day_count,
        payment_rounding=version.payment_rounding,
        fees=fees,
    )


def loan_terms_for(
    version: ProductVersion,
    *,
    note_principal: Decimal,
    annual_rate: Decimal,
    term: int,
    frequency: str,
    disbursement_date: date,
) -> LoanTerms:
    return LoanTerms(
        principal=note_principal,
        annual_rate=annual_rate / HUNDRED,
        n_periods=term,
        frequency=frequency,
        disbursement_date=disbursement_date,
        amortization=version.amortization,
        interest_method=version.interest_method,
        day_count=version.day_count,
        payment_rounding=version.payment_rounding,
    )


def loan_boarding_for(
    version: ProductVersion,
    *,
    product: Any,
    terms: LoanTerms,
    annual_rate_pct: Decimal,
    origination_fee: Decimal = Decimal("0.00"),
    apr: Decimal | None = None,
) -> LoanBoarding:
    """What servicing boards for a loan of this version of `product`: the terms plus the version's
    servicing policy (fees, late fees, allocation, prepayment). Disbursement and the portfolio
    import both board through it."""
    return LoanBoarding(
        terms=terms,
        product_code=product.code,
        product_name=product.name,
        product_version=version.version,
        currency=version.currency,
        interest_model=version.interest_model,
        origination_fee=origination_fee,
        origination_fee_kind=version.origination_fee_timing,
        late_fee=LateFeePolicy(
            kind=version.late_fee_basis,
            amount=version.late_fee_value,
            grace_days=version.late_fee_grace_days,
            cap=version.late_fee_cap,
        ),
        nsf_fee=version.nsf_fee,
        allocation_order=tuple(version.allocation_order or DEFAULT_ALLOCATION_ORDER),
        prepayment_option=version.prepayment_option,
        annual_rate_pct=annual_rate_pct,
        apr=apr,
    )


def installment_json(item: Installment) -> dict[str, Any]:
    return {
        "number": item.number,
        "due_date": item.due_date.isoformat(),
        "payment": str(item.payment),
        "principal": str(item.principal),
        "interest": str(item.interest),
        "balance": str(item.balance),
    }
