"""Loan products and their versions."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from lendcore.finance.money import MONEY_MAX, ZERO
from lendcore.quotes.services import FREQUENCIES, MAX_RATE_PCT
from origination.errors import ValidationFailed
from origination.lock_objects import product_lock
from origination.models import Document, LoanProduct, ProductVersion
from origination.services._common import FieldErrors, user_or_none
from servicing.types import DEFAULT_ALLOCATION_ORDER

PRODUCT_TERM_FIELDS = (
    "currency",
    "min_amount",
    "max_amount",
    "min_term",
    "max_term",
    "frequencies",
    "amortization",
    "interest_method",
    "day_count",
    "interest_model",
    "payment_rounding",
    "base_rate",
    "pricing_tiers",
    "origination_fee_basis",
    "origination_fee_value",
    "origination_fee_timing",
    "late_fee_basis",
    "late_fee_value",
    "late_fee_grace_days",
    "late_fee_cap",
    "nsf_fee",
    "allocation_order",
    "prepayment_option",
    "required_document_types",
    "four_eyes_limit",
    "offer_validity_days",
)


PRODUCT_MONEY_FIELDS = (
    "min_amount",
    "max_amount",
    "late_fee_value",
    "late_fee_cap",
    "nsf_fee",
    "four_eyes_limit",
)


def _product_terms_check(terms: Mapping[str, Any]) -> None:

    errors = FieldErrors()
    errors.money(terms, *PRODUCT_MONEY_FIELDS)
    lo, hi = terms.get("min_amount"), terms.get("max_amount")
    if lo is not None and lo <= 0:
        errors.add("min_amount", "Must be more than 0.")
    if lo is not None and hi is not None and hi < lo:
        errors.add("max_amount", "Must be at least min_amount.")
    lo_t, hi_t = terms.get("min_term"), terms.get("max_term")
    if lo_t is not None and lo_t < 1:
        errors.add("min_term", "Must be at least 1.")
    if lo_t is not None and hi_t is not None and hi_t < lo_t:
        errors.add("max_term", "Must be at least min_term.")
    # The JSON terms arrive as any JSON (API, admin): a wrong type is an error, not a 500.
    freqs = terms.get("frequencies")
    if freqs is not None:
        if not isinstance(freqs, list) or not freqs:
            errors.add("frequencies", f"A list of one or more of: {', '.join(FREQUENCIES)}.")
        else:
            for f in freqs:
                if not isinstance(f, str) or f not in FREQUENCIES:
                    errors.add("frequencies", f"{f!r} is not one of: {', '.join(FREQUENCIES)}.")
    doc_types = terms.get("required_document_types") or []
    if not isinstance(doc_types, list):
        errors.add("required_document_types", f"A list of: {', '.join(Document.UPLOAD_TYPES)}.")
        doc_types = []
    for doc_type in doc_types:
        if not isinstance(doc_type, str) or doc_type not in Document.UPLOAD_TYPES:
            errors.add(
                "required_document_types",
                f"{doc_type!r} is not one of: {', '.join(Document.UPLOAD_TYPES)}.",
            )
    order = terms.get("allocation_order") or []
    if order and (
        not isinstance(order, list)
        or sorted(str(bucket) for bucket in order) != sorted(DEFAULT_ALLOCATION_ORDER)
    ):
        errors.add("allocation_order", "Order each of fees, interest and principal exactly once.")
    tiers = terms.get("pricing_tiers") or []
    if not isinstance(tiers, list):
        errors.add("pricing_tiers", "A list of {min_score, max_score, rate, max_amount}.")
        tiers = []
    for i, tier in enumerate(tiers):
        try:
            if int(tier["min_score"]) > int(tier["max_score"]):
                raise ValueError("min_score above max_score")
            rate, cap = Decimal(str(tier["rate"])), Decimal(str(tier["max_amount"]))
            if not rate.is_finite() or not ZERO <= rate <= MAX_RATE_PCT:
                raise ValueError(f"rate must be between 0 and {MAX_RATE_PCT} (percent a year)")
            if not ZERO < cap <= MONEY_MAX:
                raise ValueError(f"max_amount must be more than 0 and at most {MONEY_MAX:,}")
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            errors.add("pricing_tiers", f"Tier {i + 1}: {exc}.")
    base_rate = terms.get("base_rate")
    if isinstance(base_rate, Decimal) and not ZERO <= base_rate <= MAX_RATE_PCT:
        errors.add("base_rate", f"Must be between 0 and {MAX_RATE_PCT} (percent a year).")
    rounding = terms.get("payment_rounding")
    if isinstance(rounding, Decimal) and not rounding >= Decimal("0.01"):
        errors.add("payment_rounding", "Must be at least 0.01.")
    for name, choices in (
        ("amortization", ProductVersion.Amortization.values),
        ("interest_method", ProductVersion.InterestMethod.values),
        ("day_count", ProductVersion.DayCount.values),
        ("interest_model", ProductVersion.InterestModel.values),
        ("origination_fee_basis", ProductVersion.FeeBasis.values),
        ("origination_fee_timing", ProductVersion.FeeTiming.values),
        ("late_fee_basis", ProductVersion.FeeBasis.values),
        ("prepayment_option", ProductVersion.Prepayment.values),
    ):
        if name in terms and terms[name] not in choices:
            errors.add(name, f"{terms[name]!r} is not one of: {', '.join(choices)}.")
    errors.raise_if_any()


@transaction.atomic
def product_create(
    *, acting_user: Any, code: str, name: str, active: bool = True, **terms: Any
) -> LoanProduct:
    unknown = set(terms) - set(PRODUCT_TERM_FIELDS)
    if unknown:
        raise ValidationFailed.for_fields({k: ["Unknown field."] for k in sorted(unknown)})
    code = code.strip().upper()
    if LoanProduct.objects.filter(code=code).exists():
        raise ValidationFailed.for_fields({"code": [f"A product with code {code} already exists."]})
    _product_terms_check(terms)
    product = LoanProduct.objects.create(code=code, name=name, active=active)
    ProductVersion.objects.create(
        product=product, version=1, created_by=user_or_none(acting_user), **terms
    )
    return product


@transaction.atomic
def product_save(*, product: LoanProduct, acting_user: Any) -> LoanProduct:
    """Save a product's identity (code, name, active) as the admin edits it; its terms are
    versions (`product_create`, `product_update`). A new product starts without a version."""
    if product.pk is None:
        product.save(force_insert=True)
        return product
    product_lock(product_id=product.pk)
    product.save(update_fields=["name", "active"])
    return product


@transaction.atomic
def product_update(
    *,
    product: LoanProduct,
    acting_user: Any,
    name: str | None = None,
    active: bool | None = None,
    **terms: Any,
) -> ProductVersion:
    """Change a product. A version that an application uses is never edited: a new one is made."""
    unknown = set(terms) - set(PRODUCT_TERM_FIELDS)
    if unknown:
        raise ValidationFailed.for_fields({k: ["Unknown field."] for k in sorted(unknown)})
    product = product_lock(product_id=product.pk)
    current = product.versions.order_by("-version").first()
    if current is None:
        _product_terms_check(terms)
        return ProductVersion.objects.create(
            product=product, version=1, created_by=user_or_none(acting_user), **terms
        )
    merged = {f: getattr(current, f) for f in PRODUCT_TERM_FIELDS}
    merged.update(terms)
    _product_terms_check(merged)
    fields = []
    if name is not None:
        product.name = name
        fields.append("name")
    if active is not None:
        product.active = active
        fields.append("active")
    if fields:
        product.save(update_fields=fields)
    changed = {k: v for k, v in terms.items() if getattr(current, k) != v}
    if not changed:
        return current
    if current.applications.exists():
        return ProductVersion.objects.create(
            product=product,
            version=current.version + 1,
            created_by=user_or_none(acting_user),
            **merged,
        )
    for key, value in changed.items():
        setattr(current, key, value)
    current.save(update_fields=list(changed))
    return current
