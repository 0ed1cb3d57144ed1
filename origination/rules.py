"""The rules engine: features in, an explainable outcome out. Pure: no ORM, no I/O.

A rule *fires* when `feature operator threshold` holds; a firing `decline` rule declines, a
firing `refer` rule refers, and an application no rule fires on is approved. A feature
without a value (no credit file) fires only `missing` rules. Every rule's evaluation is kept
in the trace (`passed` is False when it fired); a decline gives up to four principal reasons,
in rule order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_REASONS = 4
TEXT_FEATURES = frozenset({"identity_result"})
FEATURES = (
    "score",
    "dti",
    "monthly_income",
    "amount",
    "term",
    "age",
    "delinquencies_24m",
    "inquiries_6m",
    "bankruptcies",
    "months_employed",
    "loan_to_income",
    "identity_result",
)
OPERATORS = ("lt", "lte", "gt", "gte", "eq", "ne", "missing")
OPERATOR_SYMBOLS = {
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "eq": "=",
    "ne": "!=",
    "missing": "is missing",
}
OUTCOMES = ("decline", "refer")


@dataclass(frozen=True)
class RuleSpec:
    order: int
    feature: str
    operator: str
    threshold: str
    outcome: str
    reason_code: str
    reason_text: str

    @classmethod
    def of(cls, rule: Any) -> RuleSpec:
        get = rule.get if isinstance(rule, Mapping) else lambda k, d=None: getattr(rule, k, d)
        return cls(
            order=int(get("order", 0) or 0),
            feature=str(get("feature")),
            operator=str(get("operator")),
            threshold=str(get("threshold", "") or ""),
            outcome=str(get("outcome")),
            reason_code=str(get("reason_code")),
            reason_text=str(get("reason_text")),
        )


@dataclass(frozen=True)
class Evaluation:
    outcome: str  # approve | decline | refer
    reasons: list[dict[str, str]]
    trace: list[dict[str, Any]]


def rule_error(spec: RuleSpec) -> dict[str, str]:
    """What is wrong with a rule, by field (empty when it is fine)."""
    errors: dict[str, str] = {}
    if spec.feature not in FEATURES:
        errors["feature"] = f"{spec.feature!r} is not one of: {', '.join(FEATURES)}."
    if spec.operator not in OPERATORS:
        errors["operator"] = f"{spec.operator!r} is not one of: {', '.join(OPERATORS)}."
    if spec.outcome not in OUTCOMES:
        errors["outcome"] = f"{spec.outcome!r} is not one of: {', '.join(OUTCOMES)}."
    if not spec.reason_code.strip() or not spec.reason_text.strip():
        errors["reason_code"] = "A reason code and text are required."
    if spec.operator != "missing" and spec.feature not in TEXT_FEATURES:
        try:
            number: Decimal | None = Decimal(spec.threshold)
        except (InvalidOperation, ValueError):
            number = None
        if number is None or not number.is_finite():  # NaN cannot be compared: a 500 later
            errors["threshold"] = f"{spec.threshold!r} is not a number."
    if spec.feature in TEXT_FEATURES and spec.operator not in ("eq", "ne", "missing"):
        errors["operator"] = f"{spec.feature} takes only eq, ne or missing."
    return errors


def _fires(operator: str, value: Any, threshold: str) -> bool:
    if operator == "missing":
        return value is None
    if value is None:
        return False
    if isinstance(value, str) and not _is_number(value):
        left: Any = value
        right: Any = threshold
        if operator in ("eq", "ne"):
            return (left == right) == (operator == "eq")
        return False
    left = Decimal(str(value))
    right = Decimal(threshold)
    return {
        "lt": left < right,
        "lte": left <= right,
        "gt": left > right,
        "gte": left >= right,
        "eq": left == right,
        "ne": left != right,
    }[operator]


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return True


def evaluate(rules: Iterable[Any], features: Mapping[str, Any]) -> Evaluation:
    specs = sorted((RuleSpec.of(r) for r in rules), key=lambda s: s.order)
    trace: list[dict[str, Any]] = []
    fired: dict[str, list[RuleSpec]] = {"decline": [], "refer": []}
    for spec in specs:
        value = features.get(spec.feature)
        fires = _fires(spec.operator, value, spec.threshold)
        if fires:
            fired[spec.outcome].append(spec)
        entry = asdict(spec)
        entry.update({"value": None if value is None else str(value), "passed": not fires})
        trace.append(entry)
    outcome = "decline" if fired["decline"] else "refer" if fired["refer"] else "approve"
    reasons: list[dict[str, str]] = []
    for spec in fired.get(outcome, []):
        if all(r["code"] != spec.reason_code for r in reasons):
            reasons.append({"code": spec.reason_code, "text": spec.reason_text})
    return Evaluation(outcome=outcome, reasons=reasons[:MAX_REASONS], trace=trace)


def decision_evaluate(
    *, rules_: Iterable[Any], features: Mapping[str, Any], tier: Mapping[str, str] | None
) -> Evaluation:
    """The rule set's evaluation plus the pricing checks (tier found, amount within its max)."""
    evaluation = evaluate(rules_, features)
    trace = list(evaluation.trace)
    reasons = list(evaluation.reasons)
    outcome = evaluation.outcome
    if features.get("score") is not None:
        no_tier = tier is None
        trace.append(
            {
                "order": 10_000,
                "feature": "score",
                "operator": "in_pricing_tier",
                "threshold": "",
                "outcome": "refer",
                "reason_code": "NO_PRICING_TIER",
                "reason_text": "Credit score outside the product's pricing tiers",
                "value": str(features["score"]),
                "passed": not no_tier,
                "system": True,
            }
        )
        if no_tier and outcome == "approve":
            outcome = "refer"
            reasons = [{"code": "NO_PRICING_TIER", "text": trace[-1]["reason_text"]}]
    if tier is not None:
        over = Decimal(str(features["amount"])) > Decimal(tier["max_amount"])
        trace.append(
            {
                "order": 10_001,
                "feature": "amount",
                "operator": "gt",
                "threshold": tier["max_amount"],
                "outcome": "refer",
                "reason_code": "AMOUNT_ABOVE_TIER_MAX",
                "reason_text": "Amount requested above the maximum for the credit score",
                "value": str(features["amount"]),
                "passed": not over,
                "system": True,
            }
        )
        if over and outcome == "approve":
            outcome = "refer"
            reasons = [{"code": "AMOUNT_ABOVE_TIER_MAX", "text": trace[-1]["reason_text"]}]
    return Evaluation(outcome=outcome, reasons=reasons, trace=trace)
