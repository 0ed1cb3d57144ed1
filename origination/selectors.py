"""Reads for origination: QuerySets already shaped, and the visibility filters.

A borrower reaches only their own applicants, applications and documents (others are not
found); staff holding `manage_applications` (or `underwrite_applications`) see everything.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_can
from lendcore.finance.money import round_money

from . import rules
from .errors import ErrorCode, NotFound, ValidationFailed
from .models import (
    Applicant,
    Application,
    BorrowerInvitation,
    Decision,
    Document,
    LoanImport,
    LoanProduct,
    ProductVersion,
    RuleSet,
    UnderwriterAction,
)
from .types import BacktestResult

UserLike = User | AnonymousUser

WAITING_REASONS = (ErrorCode.BUREAU_UNAVAILABLE.value, ErrorCode.IDENTITY_UNAVAILABLE.value)


def user_sees_all_applications(user: UserLike) -> bool:
    return user_can(user, Action.WORK_APPLICATIONS) or user_can(user, Action.UNDERWRITE)


# --- products ----------------------------------------------------------------------------------


def product_current_version(product: LoanProduct) -> ProductVersion:
    cached = getattr(product, "_current_versions", None)
    if cached is not None:
        return cached[0]
    version = product.versions.order_by("-version").first()
    if version is None:
        raise NotFound(f"Product {product.code} has no version.")
    return version


def product_list(*, active_only: bool = False) -> QuerySet[LoanProduct]:
    qs = LoanProduct.objects.prefetch_related(
        Prefetch(
            "versions",
            queryset=ProductVersion.objects.order_by("-version"),
            to_attr="_current_versions",
        )
    ).order_by("code")
    if active_only:
        qs = qs.filter(active=True)
    return qs


def product_get(*, product_id: int) -> LoanProduct:
    product = product_list().filter(pk=product_id).first()
    if product is None:
        raise NotFound("Product not found.")
    return product


def product_get_by_code(*, code: str) -> LoanProduct:
    product = product_list().filter(code=code).first()
    if product is None:
        raise NotFound(f"Product {code} not found.")
    return product


# --- applicants --------------------------------------------------------------------------------


def applicant_visible(*, user: UserLike) -> QuerySet[Applicant]:
    qs = Applicant.objects.select_related("borrower")
    if user_sees_all_applications(user):
        return qs
    if not user.is_authenticated:
        return qs.none()
    return qs.filter(borrower__user=user)


def applicant_get(*, user: UserLike, applicant_id: int) -> Applicant:
    applicant = applicant_visible(user=user).filter(pk=applicant_id).first()
    if applicant is None:
        raise NotFound("Applicant not found.")
    return applicant


# --- applications ------------------------------------------------------------------------------


def application_visible(*, user: UserLike) -> QuerySet[Application]:
    qs = Application.objects.all()
    if user_sees_all_applications(user):
        return qs
    if not user.is_authenticated:
        return qs.none()
    return qs.filter(applicant__borrower__user=user)


def application_list(
    *,
    user: UserLike,
    status: str | None = None,
    product_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    applicant_id: int | None = None,
    external_id: str | None = None,
) -> QuerySet[Application]:
    qs = application_visible(user=user)
    if external_id:
        qs = qs.filter(external_id=external_id)
    if status:
        qs = qs.filter(status__in=status.split(","))
    if product_id:
        qs = qs.filter(product_id=product_id)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lte=created_to)
    if applicant_id:
        qs = qs.filter(applicant_id=applicant_id)
    return qs.select_related("applicant", "product", "product_version").order_by("-id")


def application_get(*, user: UserLike, application_id: int) -> Application:
    application = (
        application_visible(user=user)
        .select_related("applicant", "product", "product_version", "created_by")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.order_by("-id"), to_attr="_decisions"),
            "events",
        )
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound("Application not found.")
    return application


def application_latest_decision(application: Application) -> Decision | None:
    cached = getattr(application, "_decisions", None)
    if cached is not None:
        return cached[0] if cached else None
    return application.decisions.order_by("-id").first()


def application_offer(application: Application):
    try:
        return application.offer
    except Application.offer.RelatedObjectDoesNotExist:
        return None


def application_status_counts() -> dict[str, int]:
    rows = Application.objects.values("status").annotate(n=Count("id"))
    counts = {s.value: 0 for s in Application.Status}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


# An application the decision (or an underwriter) approved, whatever happened to it since.
APPROVED_OUTCOMES = (
    Application.Status.APPROVED,
    Application.Status.OFFER_ACCEPTED,
    Application.Status.DISBURSED,
)


def pipeline_figures(*, since: datetime) -> dict[str, Any]:
    """The dashboard's pipeline over applications decided since `since`: approved and
    declined counts, the approval rate (approved over approved and declined, in percent;
    referred ones are not decided yet) and the median time from submission to decision."""
    decided = Application.objects.filter(decided_at__gte=since, submitted_at__isnull=False)
    counts = decided.aggregate(
        approved=Count("id", filter=Q(status__in=APPROVED_OUTCOMES)),
        declined=Count("id", filter=Q(status=Application.Status.DECLINED)),
    )
    waits = sorted(
        (decided_at - submitted_at).total_seconds()
        for submitted_at, decided_at in decided.values_list("submitted_at", "decided_at")
        if submitted_at is not None and decided_at is not None
    )
    median = None
    if waits:
        middle = len(waits) // 2
        median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
    both = counts["approved"] + counts["declined"]
    return {
        **counts,
        "approval_rate": round_money(Decimal(counts["approved"] * 100) / both) if both else None,
        "median_seconds_to_decision": median,
    }


def underwriter_queue() -> QuerySet[Application]:
    return (
        Application.objects.filter(status=Application.Status.REFERRED)
        .select_related("applicant", "product", "product_version")
        .order_by("decided_at", "id")
    )


def application_missing_document_types(application: Application) -> list[str]:
    """The product's required document types with no current (not rejected) upload."""
    required = list(application.product_version.required_document_types or [])
    present = set(
        application.documents.filter(
            doc_type__in=required, status__in=[Document.Status.PENDING, Document.Status.ACCEPTED]
        ).values_list("doc_type", flat=True)
    )
    return [t for t in required if t not in present]


def application_checklist(application: Application) -> list[dict]:
    required = list(application.product_version.required_document_types or [])
    docs = {
        d.doc_type: d
        for d in application.documents.exclude(status=Document.Status.SUPERSEDED).order_by("id")
    }
    return [
        {
            "doc_type": t,
            "status": docs[t].status if t in docs else "missing",
            "document": docs[t].pk if t in docs else None,
        }
        for t in required
    ]


# --- documents ---------------------------------------------------------------------------------


def document_list(*, application: Application) -> QuerySet[Document]:
    return application.documents.order_by("id")


def application_id_for_loan(*, application_ref: str) -> int | None:
    """The application a loan was boarded from: disbursement boards it as `APP-<id>`
    (`services.application_disburse`); None for a loan boarded otherwise."""
    prefix, _, number = application_ref.partition("-")
    return int(number) if prefix == "APP" and number.isdigit() else None


def documents_for_loan(*, application_ref: str) -> QuerySet[Document]:
    """The documents of the application a loan came from (uploads and the disclosures and
    agreement generated for it), replaced uploads left out."""
    application_id = application_id_for_loan(application_ref=application_ref)
    if application_id is None:
        return Document.objects.none()
    return (
        Document.objects.filter(application_id=application_id)
        .exclude(status=Document.Status.SUPERSEDED)
        .order_by("id")
    )


def document_get(*, user: UserLike, document_id: int) -> Document:
    """A document the user may see: of an application they see, or, for servicing staff, of
    a disbursed one (the documents of the loans they service)."""
    visible = Q(application__in=application_visible(user=user))
    if user_can(user, Action.READ_LOAN):
        visible |= Q(application__status=Application.Status.DISBURSED)
    document = (
        Document.objects.select_related("application").filter(visible, pk=document_id).first()
    )
    if document is None:
        raise NotFound("Document not found.")
    return document


# --- rule sets ---------------------------------------------------------------------------------


def rule_set_list(*, product_id: int | None = None) -> QuerySet[RuleSet]:
    qs = RuleSet.objects.select_related("product").prefetch_related("rules")
    if product_id:
        qs = qs.filter(product_id=product_id)
    return qs.order_by("product_id", "-version")


def rule_set_get(*, rule_set_id: int) -> RuleSet:
    rule_set = rule_set_list().filter(pk=rule_set_id).first()
    if rule_set is None:
        raise NotFound("Rule set not found.")
    return rule_set


def rule_set_active(*, product_id: int) -> RuleSet | None:
    return rule_set_list(product_id=product_id).filter(status=RuleSet.Status.ACTIVE).first()


def decided_applications_for_backtest(*, product_id: int, limit: int) -> list[Decision]:
    """The latest automated decision of the last `limit` decided applications of a product."""
    decisions = (
        Decision.objects.filter(application__product_id=product_id)
        .select_related("application")
        .order_by("-id")
    )
    seen: set[int] = set()
    result: list[Decision] = []
    for decision in decisions.iterator(chunk_size=500):
        if decision.application_id in seen:
            continue
        seen.add(decision.application_id)
        result.append(decision)
        if len(result) >= limit:
            break
    return result


# --- decisions: reproduce, waiting, decline reasons, backtests --------------------------------


def decision_reproduce(*, decision: Decision) -> rules.Evaluation:
    """Evaluate a stored decision again from its inputs and its rule set version."""
    return rules.decision_evaluate(
        rules_=decision.rule_set.rules.all(),
        features=decision.inputs["features"],
        tier=decision.inputs.get("tier"),
    )


def applications_waiting_retry(*, limit: int = 100) -> list[int]:
    return list(
        Application.objects.filter(
            status=Application.Status.IN_REVIEW, status_reason__in=WAITING_REASONS
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def application_decline_reasons(application: Application) -> list[dict[str, str]]:
    action = (
        application.underwriter_actions.filter(kind=UnderwriterAction.Kind.DECLINE)
        .order_by("-id")
        .first()
    )
    if action is not None:
        return list(action.reasons)
    decision = application_latest_decision(application)
    return list(decision.reasons) if decision is not None else []


def _rate(outcomes: dict[str, int], total: int) -> Decimal:
    return round_money(Decimal(outcomes.get("approve", 0)) / total, 4) if total else Decimal("0")


def rule_set_backtest(*, rule_set: RuleSet, limit: int = 500) -> BacktestResult:
    """Run a (draft) rule set over the last `limit` decided applications of its product.

    "Before" is each application's stored automated outcome; "after" is this rule set on the
    same stored inputs. Nothing is written.
    """
    if not 1 <= limit <= 10_000:
        raise ValidationFailed.for_fields({"limit": ["Must be between 1 and 10000."]})
    rule_list = list(rule_set.rules.all())
    decisions = decided_applications_for_backtest(product_id=rule_set.product_id, limit=limit)
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    flips: list[dict[str, Any]] = []
    for decision in decisions:
        evaluation = rules.decision_evaluate(
            rules_=rule_list,
            features=decision.inputs.get("features", {}),
            tier=decision.inputs.get("tier"),
        )
        before[decision.outcome] = before.get(decision.outcome, 0) + 1
        after[evaluation.outcome] = after.get(evaluation.outcome, 0) + 1
        if evaluation.outcome != decision.outcome:
            flips.append(
                {
                    "application": decision.application_id,
                    "decision": decision.pk,
                    "before": decision.outcome,
                    "after": evaluation.outcome,
                    "reasons_after": evaluation.reasons,
                    "score": decision.score,
                    "dti": str(decision.dti) if decision.dti is not None else None,
                }
            )
    total = len(decisions)
    return BacktestResult(
        rule_set_id=rule_set.pk,
        compared=total,
        approval_rate_before=_rate(before, total),
        approval_rate_after=_rate(after, total),
        outcomes_before=before,
        outcomes_after=after,
        flips=flips,
    )


# --- borrower invitations and contact ----------------------------------------------------------


def borrower_verified_email(borrower: Any) -> str | None:
    """The address a borrower proved they own: their portal login's (confirmed at sign-up).
    A borrower served in the branch without a login has none."""
    user = getattr(borrower, "user", None) if borrower is not None else None
    if user is None or not user.is_active or not user.email:
        return None
    return str(user.email)


def applicant_contact_email(applicant: Applicant) -> str:
    """Where notices go: the linked borrower's verified address, else the applicant's own
    (a new borrower served in the branch)."""
    return borrower_verified_email(applicant.borrower) or applicant.email


def applicant_invitation_latest(applicant: Applicant) -> BorrowerInvitation | None:
    return applicant.invitations.order_by("-id").first()


def borrower_invitations_pending(*, borrower: Any) -> QuerySet[BorrowerInvitation]:
    return (
        BorrowerInvitation.objects.filter(
            borrower=borrower,
            status=BorrowerInvitation.Status.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("applicant", "created_by")
        .prefetch_related("applicant__applications__product")
        .order_by("-id")
    )


def borrower_invitation_get(*, borrower: Any, invitation_id: int) -> BorrowerInvitation:
    """One of this borrower's invitations; anyone else's answers 404."""
    invitation = (
        BorrowerInvitation.objects.filter(borrower=borrower, pk=invitation_id)
        .select_related("applicant")
        .first()
    )
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


def borrower_invitation_by_token(*, borrower: Any, token: str) -> BorrowerInvitation:
    token_hash = hashlib.sha256((token or "").encode()).hexdigest()
    invitation = BorrowerInvitation.objects.filter(borrower=borrower, token_hash=token_hash).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


# --- portfolio imports ---------------------------------------------------------------------


def loan_import_list() -> QuerySet[LoanImport]:
    """Every import, newest first, without the uploaded files."""
    return LoanImport.objects.defer("content", "payments_content").order_by("-id")


def loan_import_get(*, import_id: int) -> LoanImport:
    job = loan_import_list().filter(pk=import_id).first()
    if job is None:
        raise NotFound(f"No import {import_id}.")
    return job
