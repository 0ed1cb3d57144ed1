"""Frozen values that other apps pass into servicing.

`LoanBoarding` is the one thing origination hands over at disbursement: the finance
kernel's `LoanTerms` plus the product's fee, interest-model and allocation policy, copied so
that editing a product never changes a running loan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lendcore.finance.schedule import LoanTerms

INTEREST_MODELS = ("scheduled", "daily_simple")
FEE_KINDS = ("prepaid", "financed")
LATE_FEE_KINDS = ("flat", "percent")
PREPAYMENT_OPTIONS = ("reduce_term", "reamortize")
# The default waterfall: fees, then interest, then principal (past due oldest first, then
# current), then the excess as prepayment of principal.
DEFAULT_ALLOCATION_ORDER = ("fees", "interest", "principal")


@dataclass(frozen=True)
class LateFeePolicy:
    kind: str = "flat"  # "flat": `amount`; "percent": `amount` % of the installment due
    amount: Decimal = Decimal("0.00")
    grace_days: int = 0
    cap: Decimal | None = None  # the most one late fee may be


@dataclass(frozen=True)
class LoanBoarding:
    terms: LoanTerms  # the note: principal includes a financed origination fee
    product_code: str
    product_name: str = ""
    product_version: int = 1
    currency: str = "USD"
    interest_model: str = "scheduled"
    origination_fee: Decimal = Decimal("0.00")
    origination_fee_kind: str = "prepaid"
    late_fee: LateFeePolicy = field(default_factory=LateFeePolicy)
    nsf_fee: Decimal = Decimal("0.00")
    allocation_order: tuple[str, ...] = DEFAULT_ALLOCATION_ORDER
    prepayment_option: str = "reduce_term"
    annual_rate_pct: Decimal | None = None  # as disclosed; defaults to terms.annual_rate * 100
    apr: Decimal | None = None  # the disclosed APR, kept for statements

    def __post_init__(self) -> None:
        if self.interest_model not in INTEREST_MODELS:
            raise ValueError(f"interest_model must be one of {INTEREST_MODELS}")
        if self.origination_fee_kind not in FEE_KINDS:
            raise ValueError(f"origination_fee_kind must be one of {FEE_KINDS}")
        if self.late_fee.kind not in LATE_FEE_KINDS:
            raise ValueError(f"late_fee.kind must be one of {LATE_FEE_KINDS}")
        if self.prepayment_option not in PREPAYMENT_OPTIONS:
            raise ValueError(f"prepayment_option must be one of {PREPAYMENT_OPTIONS}")


@dataclass(frozen=True)
class MigratedBorrower:
    """The borrower of a migrated loan: what servicing keeps of a borrower."""

    first_name: str
    last_name: str
    email: str
    phone: str = ""
    # the previous system's borrower id: rows of one batch with the same ref share a borrower
    ref: str = ""


@dataclass(frozen=True)
class MigratedPayment:
    """One payment of a migrated loan's history, split as the previous system applied it."""

    paid_on: date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    fees: Decimal


@dataclass(frozen=True)
class LoanMigration:
    """A loan brought over from another system (portfolio import): its original terms and
    product policy, its borrower, and its balances as of `as_of_date`. `installments_paid`
    of the original schedule are paid; the rest re-amortize the outstanding principal."""

    external_id: str
    boarding: LoanBoarding
    borrower: MigratedBorrower
    as_of_date: date
    principal_outstanding: Decimal
    interest_accrued: Decimal
    fees_outstanding: Decimal
    installments_paid: int
    payments: tuple[MigratedPayment, ...] | None = None  # None: no history given
