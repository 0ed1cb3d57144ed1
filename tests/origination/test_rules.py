"""The pure rules engine: operators, missing values, reasons (at most four, in order)."""

from __future__ import annotations

from origination import rules


def rule(order, feature, operator, threshold, outcome="decline", code=None):
    return {
        "order": order,
        "feature": feature,
        "operator": operator,
        "threshold": threshold,
        "outcome": outcome,
        "reason_code": code or f"R{order}",
        "reason_text": f"Reason {order}",
    }


def test_no_rule_fires_approves():
    result = rules.evaluate([rule(1, "score", "lt", "580")], {"score": 700})
    assert result.outcome == "approve"
    assert result.reasons == []
    assert result.trace[0]["passed"] is True
    assert result.trace[0]["value"] == "700"


def test_decline_wins_over_refer_and_keeps_four_reasons_in_order():
    rule_list = [rule(i, "dti", "gt", "0.1") for i in range(1, 7)] + [
        rule(7, "score", "lt", "900", outcome="refer")
    ]
    result = rules.evaluate(rule_list, {"dti": "0.45", "score": 700})
    assert result.outcome == "decline"
    assert [r["code"] for r in result.reasons] == ["R1", "R2", "R3", "R4"]


def test_missing_values_fire_only_missing_rules():
    rule_list = [rule(1, "score", "lt", "580"), rule(2, "score", "missing", "", outcome="refer")]
    result = rules.evaluate(rule_list, {"score": None})
    assert result.outcome == "refer"
    assert [t["passed"] for t in result.trace] == [True, False]


def test_text_features_compare_equal():
    result = rules.evaluate([rule(1, "identity_result", "eq", "fail")], {"identity_result": "fail"})
    assert result.outcome == "decline"


def test_rule_error_names_the_bad_parts():
    spec = rules.RuleSpec.of(rule(1, "score", "between", "abc"))
    errors = rules.rule_error(spec)
    assert "operator" in errors
    assert "threshold" in errors
