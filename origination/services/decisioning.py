"""Identity, bureau and the automated decision."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.core.state import transition
from lendcore.finance.money import round_money
from origination import crypto, effects, pricing, rules, selectors
from origination.adapters import Subject, bureau_backend, identity_backend
from origination.errors import BureauUnavailable, ErrorCode, IdentityUnavailable
from origination.lock_objects import application_lock
from origination.models import Applicant, Application, BureauReport, Decision, IdentityCheck
from origination.services._common import S, application_event, audit, today
from origination.services.applicants import age_on
from origination.services.offers import offer_create
from origination.types import DecisionInputs

REPORT_REUSE_DAYS = 30


def subject_of(applicant: Applicant) -> Subject:
    return Subject(
        first_name=applicant.first_name,
        last_name=applicant.last_name,
        date_of_birth=applicant.date_of_birth,
        ssn=crypto.decrypt(applicant.ssn_encrypted),
        address_line1=applicant.address_line1,
        city=applicant.city,
        state=applicant.state,
        postal_code=applicant.postal_code,
    )


def identity_check_run(*, applicant: Applicant, subject: Subject | None = None) -> IdentityCheck:
    """The latest identity check of the last 30 days, or a new one (network: no transaction)."""
    since = timezone.now() - timedelta(days=REPORT_REUSE_DAYS)
    recent = applicant.identity_checks.filter(created_at__gte=since).order_by("-id").first()
    if recent is not None:
        return recent
    backend = identity_backend()
    result = backend.verify(subject or subject_of(applicant))
    return IdentityCheck.objects.create(
        applicant=applicant, provider=result.provider, result=result.result, raw=result.raw
    )


def bureau_report_pull(
    *, applicant: Applicant, subject: Subject | None = None, force: bool = False
) -> BureauReport:
    """A report from the last 30 days, or a new pull kept with its raw payload."""
    now = timezone.now()
    if not force:
        recent = (
            applicant.bureau_reports.filter(pulled_at__gte=now - timedelta(days=REPORT_REUSE_DAYS))
            .order_by("-pulled_at", "-id")
            .first()
        )
        if recent is not None:
            return recent
    backend = bureau_backend()
    result = backend.pull(subject or subject_of(applicant))
    return BureauReport.objects.create(
        applicant=applicant,
        bureau=result.bureau,
        has_file=result.has_file,
        score=result.score,
        score_model=result.score_model,
        score_range_min=result.score_range_min,
        score_range_max=result.score_range_max,
        key_factors=list(result.key_factors),
        monthly_debts=result.monthly_debts,
        delinquencies_24m=result.delinquencies_24m,
        inquiries_6m=result.inquiries_6m,
        bankruptcies=result.bankruptcies,
        raw=result.raw,
        pulled_at=now,
    )


def decision_inputs_build(
    *,
    application: Application,
    applicant: Applicant,
    report: BureauReport | None,
    identity: IdentityCheck | None,
    on: date,
) -> DecisionInputs:
    version = application.product_version
    score = report.score if report is not None and report.has_file else None
    tier = pricing.tier_for(version, score)
    rate = tier.rate if tier is not None else pricing.fallback_rate(version)
    quote = pricing.quote_for(
        version,
        amount=application.amount,
        annual_rate=rate,
        term=application.term,
        frequency=application.frequency,
        disbursement_date=on,
    )
    on_file = report if report is not None and report.has_file else None
    debts = on_file.monthly_debts if on_file is not None else applicant.monthly_other_debts
    income = applicant.monthly_income
    dti = round_money((debts + applicant.monthly_housing_payment + quote.payment) / income, 4)
    loan_to_income = round_money(application.amount / (income * 12), 4)
    features: dict[str, Any] = {
        "score": score,
        "dti": str(dti),
        "monthly_income": str(income),
        "amount": str(application.amount),
        "term": application.term,
        "age": age_on(applicant.date_of_birth, on),
        "delinquencies_24m": on_file.delinquencies_24m if on_file is not None else None,
        "inquiries_6m": on_file.inquiries_6m if on_file is not None else None,
        "bankruptcies": on_file.bankruptcies if on_file is not None else None,
        "months_employed": applicant.months_employed,
        "loan_to_income": str(loan_to_income),
        "identity_result": identity.result if identity is not None else None,
    }
    tier_json = (
        None
        if tier is None
        else {
            "min_score": str(tier.min_score),
            "max_score": str(tier.max_score),
            "rate": str(tier.rate),
            "max_amount": str(tier.max_amount),
        }
    )
    return DecisionInputs(
        features=features, tier=tier_json, rate=rate, proposed_payment=quote.payment
    )


def _mark_waiting(application: Application, reason: str, message: str) -> Application:
    with transaction.atomic():
        locked = application_lock(application_id=application.pk)
        if locked.status == S.IN_REVIEW and locked.status_reason != reason:
            locked.status_reason = reason
            locked.save(update_fields=["status_reason", "updated_at"])
        audit(action=reason, acting_user=None, application=locked, message=message)
    return locked


def application_decide(*, application_id: int, acting_user: Any = None) -> Application:
    """Run identity, bureau and the active rule set; store the decision and move the status.

    Idempotent: an application already decided is returned unchanged. When the bureau (or
    the identity provider) is down the application stays `in_review` with that reason.
    """
    application = Application.objects.select_related("applicant", "product_version").get(
        pk=application_id
    )
    if application.status == S.SUBMITTED:
        with transaction.atomic():
            application = application_lock(application_id=application_id)
            if application.status == S.SUBMITTED:
                transition(
                    application, to=S.IN_REVIEW, acting_user=acting_user, reason="automated review"
                )
    if application.status != S.IN_REVIEW:
        return application

    rule_set = selectors.rule_set_active(product_id=application.product_id)
    if rule_set is None:
        return _mark_waiting(
            application, ErrorCode.NO_ACTIVE_RULE_SET, "The product has no active rule set."
        )
    applicant = application.applicant
    subject = subject_of(applicant)
    try:
        identity = identity_check_run(applicant=applicant, subject=subject)
    except IdentityUnavailable as exc:
        return _mark_waiting(application, ErrorCode.IDENTITY_UNAVAILABLE, exc.message)
    try:
        report = bureau_report_pull(applicant=applicant, subject=subject)
    except BureauUnavailable as exc:
        return _mark_waiting(application, ErrorCode.BUREAU_UNAVAILABLE, exc.message)

    on = today()
    inputs = decision_inputs_build(
        application=application, applicant=applicant, report=report, identity=identity, on=on
    )
    rule_list = list(rule_set.rules.all())
    evaluation = rules.decision_evaluate(
        rules_=rule_list, features=inputs.features, tier=inputs.tier
    )

    with transaction.atomic():
        application = application_lock(application_id=application_id)
        if application.status != S.IN_REVIEW:
            return application
        decision = Decision.objects.create(
            application=application,
            rule_set=rule_set,
            rule_set_version=rule_set.version,
            outcome=evaluation.outcome,
            score=inputs.features["score"],
            dti=Decimal(inputs.features["dti"]),
            offered_rate=inputs.tier["rate"] if inputs.tier else None,
            max_amount=inputs.tier["max_amount"] if inputs.tier else None,
            reasons=evaluation.reasons,
            rules=evaluation.trace,
            inputs={
                "features": inputs.features,
                "tier": inputs.tier,
                "rate_used_for_dti": str(inputs.rate),
                "proposed_payment": str(inputs.proposed_payment),
                "product_version": application.product_version_id,
                "rule_set": rule_set.pk,
                "bureau_report": report.pk,
                "identity_check": identity.pk,
                "decided_on": on.isoformat(),
            },
            bureau_report=report,
            identity_check=identity,
        )
        to = {"approve": S.APPROVED, "decline": S.DECLINED, "refer": S.REFERRED}[decision.outcome]
        application.status_reason = ""
        application.decided_at = timezone.now()
        codes = ", ".join(r["code"] for r in decision.reasons)
        transition(
            application,
            to=to,
            acting_user=acting_user,
            reason=f"automated {decision.outcome}" + (f": {codes}" if codes else ""),
            update_fields=["status_reason", "decided_at"],
        )
        if to == S.APPROVED:
            offer_create(
                application=application,
                amount=application.amount,
                annual_rate=inputs.rate,
                term=application.term,
                acting_user=acting_user,
            )
        if to != S.REFERRED:  # referred: an underwriter decides (underwriting.py)
            application_event(
                "application.decided", application, outcome=to, decided_by="automated"
            )
        effects.decision_effects_on_commit(application.pk, to)
    return application
