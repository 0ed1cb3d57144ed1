"""Writes for origination: validate, lock, write, audit, schedule on-commit effects.

Every mutation is `<entity>_<action>(*, ..., acting_user)` and returns the domain object.
No network call happens inside a transaction: identity and bureau pulls run before, files
are stored before, e-mails and PDFs for notices go in `transaction.on_commit`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from lendcore.accounts.services import borrower_create_without_login
from lendcore.finance.money import MONEY_MAX, ZERO, round_money

from . import crypto, pricing, rules, selectors
from .adapters import Subject, bureau_backend, identity_backend
from .errors import (
    BureauUnavailable,
    Conflict,
    ErrorCode,
    FourEyesViolation,
    IdentityUnavailable,
    InvalidTransition,
    MissingDocuments,
    NotFound,
    OfferExpired,
    SelfApproval,
    ValidationFailed,
)
from .lock_objects import application_lock, product_lock, rule_sets_of_product_lock
from .models import (
    Applicant,
    Application,
    ApplicationEvent,
    AuditEntry,
    BureauReport,
    Decision,
    Document,
    DocumentEvent,
    IdentityCheck,
    LoanProduct,
    Offer,
    OfferEvent,
    ProductVersion,
    Rule,
    RuleSet,
    RuleSetEvent,
    UnderwriterAction,
)
from .types import BacktestResult, DecisionInputs

logger = logging.getLogger(__name__)

S = Application.Status
REPORT_REUSE_DAYS = 30
MIN_AGE = 18
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DISBURSEMENT_METHODS = ("ach", "wire", "check")
WAITING_REASONS = (ErrorCode.BUREAU_UNAVAILABLE.value, ErrorCode.IDENTITY_UNAVAILABLE.value)


def _today() -> date:
    """The lender's business date (servicing keeps it)."""
    from servicing.selectors import business_date_get

    return business_date_get()


def _user(acting_user: Any) -> Any:
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


# --- the one transition helper -----------------------------------------------------------------

_EVENTS: dict[type[models.Model], tuple[type[models.Model], str]] = {
    Application: (ApplicationEvent, "application"),
    Document: (DocumentEvent, "document"),
    RuleSet: (RuleSetEvent, "rule_set"),
    Offer: (OfferEvent, "offer"),
}


def transition(
    obj: Any,
    *,
    to: str,
    acting_user: Any,
    reason: str = "",
    update_fields: Iterable[str] = (),
) -> None:
    """Move `obj` to `to` if its `TRANSITIONS` table allows it, writing the event row.

    Refuses (409, nothing written) what the table does not allow. Call it on a locked row
    inside the caller's transaction; `update_fields` saves the caller's other changes too.
    """
    model = type(obj)
    current = obj.status
    if to not in model.TRANSITIONS.get(current, ()):
        label = model._meta.verbose_name
        raise InvalidTransition(
            f"A {label} that is {current} cannot become {to}.",
            extra={"from": current, "to": to},
        )
    obj.status = to
    fields = ["status", *update_fields]
    if any(f.name == "updated_at" for f in model._meta.fields):
        fields.append("updated_at")
    obj.save(update_fields=fields)
    event_model, fk = _EVENTS[model]
    event_model.objects.create(
        **{fk: obj},
        actor=_user(acting_user),
        from_status=current,
        to_status=to,
        reason=reason[:500],
    )


def _audit(
    *,
    action: str,
    acting_user: Any,
    application: Application | None = None,
    applicant: Applicant | None = None,
    **detail: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=_user(acting_user),
        action=action,
        application=application,
        applicant=applicant,
        detail=detail,
    )


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def money(self, terms: Mapping[str, Any], *names: str) -> None:
        """Each named amount that is present is at most MONEY_MAX (every money input's bound)."""
        for name in names:
            value = terms.get(name)
            if isinstance(value, Decimal) and not value <= MONEY_MAX:
                self.add(name, f"Must be at most {MONEY_MAX:,}.")

    def raise_if_any(self, message: str | None = None) -> None:
        if self.fields:
            names = ", ".join(sorted(self.fields))
            raise ValidationFailed.for_fields(
                self.fields, message=message or f"Invalid input: {names}."
            )


def _notify_on_commit(application_id: int, event: str) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.notification_send_task.delay(application_id, event))


# --- products ----------------------------------------------------------------------------------

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
    from lendcore.quotes.services import FREQUENCIES, MAX_RATE_PCT
    from servicing.types import DEFAULT_ALLOCATION_ORDER

    errors = _Errors()
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
        product=product, version=1, created_by=_user(acting_user), **terms
    )
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
            product=product, version=1, created_by=_user(acting_user), **terms
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
            product=product, version=current.version + 1, created_by=_user(acting_user), **merged
        )
    for key, value in changed.items():
        setattr(current, key, value)
    current.save(update_fields=list(changed))
    return current


# --- applicants --------------------------------------------------------------------------------

APPLICANT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "employer",
    "months_employed",
    "monthly_income",
    "monthly_housing_payment",
    "monthly_other_debts",
)
_SSN = re.compile(r"^\d{9}$")


def ssn_normalize(value: str) -> str | None:
    digits = re.sub(r"[\s-]", "", value or "")
    return digits if _SSN.match(digits) else None


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@transaction.atomic
def applicant_create(
    *,
    acting_user: Any,
    ssn: str,
    borrower: Any = None,
    co_applicant: Applicant | None = None,
    **fields: Any,
) -> Applicant:
    unknown = set(fields) - set(APPLICANT_FIELDS)
    if unknown:
        raise ValidationFailed.for_fields({k: ["Unknown field."] for k in sorted(unknown)})
    errors = _Errors()
    for required in (
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "address_line1",
        "city",
        "state",
        "postal_code",
        "monthly_income",
    ):
        if fields.get(required) in (None, ""):
            errors.add(required, "This field is required.")
    normalized = ssn_normalize(ssn)
    if normalized is None:
        errors.add("ssn", "Must be nine digits.")
    born = fields.get("date_of_birth")
    if isinstance(born, date):
        if born > _today():
            errors.add("date_of_birth", "Must be in the past.")
        elif age_on(born, _today()) < MIN_AGE:
            errors.add("date_of_birth", f"The applicant must be at least {MIN_AGE} years old.")
    errors.money(fields, "monthly_income", "monthly_housing_payment", "monthly_other_debts")
    income = fields.get("monthly_income")
    if income is not None and income <= 0:
        errors.add("monthly_income", "Must be more than 0.")
    for name in ("monthly_housing_payment", "monthly_other_debts"):
        if fields.get(name) is not None and fields[name] < 0:
            errors.add(name, "Must be 0 or more.")
    state = fields.get("state")
    if state and not re.fullmatch(r"[A-Za-z]{2}", state):
        errors.add("state", "Must be a two-letter state code.")
    errors.raise_if_any()
    if fields.get("state"):
        fields["state"] = fields["state"].upper()
    fields = {k: v for k, v in fields.items() if v is not None}
    assert normalized is not None
    applicant = Applicant.objects.create(
        borrower=borrower,
        created_by=_user(acting_user),
        co_applicant=co_applicant,
        ssn_encrypted=crypto.encrypt(normalized),
        ssn_last4=normalized[-4:],
        **fields,
    )
    _audit(action="applicant_created", acting_user=acting_user, applicant=applicant)
    return applicant


@transaction.atomic
def applicant_ssn_reveal(*, applicant: Applicant, acting_user: Any) -> str:
    """The full SSN; the caller has checked `reveal_ssn`. Writes an audit row."""
    _audit(action="ssn_revealed", acting_user=acting_user, applicant=applicant)
    return crypto.decrypt(applicant.ssn_encrypted)


# --- applications ------------------------------------------------------------------------------


def _terms_errors(
    version: ProductVersion,
    *,
    amount: Decimal | None,
    term: int | None,
    frequency: str | None = None,
    errors: _Errors | None = None,
) -> _Errors:
    errors = errors or _Errors()
    if amount is not None and not version.min_amount <= amount <= version.max_amount:
        errors.add("amount", f"Must be between {version.min_amount:,} and {version.max_amount:,}.")
    if term is not None and not version.min_term <= term <= version.max_term:
        errors.add("term", f"Must be between {version.min_term} and {version.max_term} payments.")
    if frequency is not None and frequency not in (version.frequencies or []):
        allowed = ", ".join(version.frequencies or [])
        errors.add("frequency", f"{frequency!r} is not offered by this product ({allowed}).")
    return errors


def application_create(
    *,
    acting_user: Any,
    applicant: Applicant,
    product: LoanProduct,
    amount: Decimal,
    term: int,
    frequency: str,
    channel: str,
    purpose: str = "",
    external_id: str | None = None,
    assigned_officer: Any = None,
) -> Application:
    """A draft application. Replaying the same `external_id` with the same terms returns it."""
    external_id = (external_id or "").strip() or None
    if external_id:
        existing = Application.objects.filter(external_id=external_id).first()
        if existing is not None:
            if (
                existing.applicant_id == applicant.pk
                and existing.product_id == product.pk
                and existing.amount == amount
                and existing.term == term
                and existing.frequency == frequency
            ):
                return existing
            raise Conflict(
                f"external_id {external_id!r} is already used by another application.",
                code="external_id_taken",
                extra={"fields": {"external_id": ["Already used by another application."]}},
            )
    if not product.active:
        raise ValidationFailed.for_fields(
            {"product": ["This product is not offered any more."]}, code=ErrorCode.PRODUCT_INACTIVE
        )
    if channel not in Application.Channel.values:
        raise ValidationFailed.for_fields({"channel": [f"{channel!r} is not a channel."]})
    version = selectors.product_current_version(product)
    errors = _terms_errors(version, amount=amount, term=term, frequency=frequency)
    if amount is not None and amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.add("amount", "At most 2 decimal places.")
    errors.raise_if_any()
    with transaction.atomic():
        application = Application.objects.create(
            applicant=applicant,
            product=product,
            product_version=version,
            amount=amount,
            term=term,
            frequency=frequency,
            purpose=purpose,
            channel=channel,
            external_id=external_id,
            created_by=_user(acting_user),
            assigned_officer=assigned_officer,
        )
        ApplicationEvent.objects.create(
            application=application,
            actor=_user(acting_user),
            from_status="",
            to_status=S.DRAFT,
            reason=f"created via {channel}",
        )
    return application


@transaction.atomic
def application_start(
    *,
    acting_user: Any,
    borrower: Any,
    applicant_fields: Mapping[str, Any],
    product: LoanProduct,
    amount: Decimal,
    term: int,
    frequency: str,
    purpose: str = "",
    channel: str = Application.Channel.PORTAL,
) -> Application:
    """A borrower's own start: the applicant and the draft exist together or not at all."""
    applicant = applicant_create(acting_user=acting_user, borrower=borrower, **applicant_fields)
    return application_create(
        acting_user=acting_user,
        applicant=applicant,
        product=product,
        amount=amount,
        term=term,
        frequency=frequency,
        purpose=purpose,
        channel=channel,
    )


def application_submit(*, application: Application, acting_user: Any) -> Application:
    """draft -> submitted; the automated decision runs in a task after commit."""
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        if application.status != S.DRAFT:
            raise InvalidTransition(
                f"This application is already {application.status}; it can be submitted once.",
                extra={"from": application.status, "to": S.SUBMITTED},
            )
        missing = selectors.application_missing_document_types(application)
        if missing:
            raise MissingDocuments(
                f"Required documents are missing: {', '.join(missing)}.",
                extra={
                    "missing": missing,
                    "fields": {"documents": [f"Missing: {', '.join(missing)}."]},
                },
            )
        application.submitted_at = timezone.now()
        transition(
            application,
            to=S.SUBMITTED,
            acting_user=acting_user,
            reason="submitted",
            update_fields=["submitted_at"],
        )
        from . import tasks

        app_id = application.pk
        _notify_on_commit(app_id, "submitted")
        transaction.on_commit(lambda: tasks.application_decide_task.delay(app_id))
    return application


def application_withdraw(
    *, application: Application, acting_user: Any, reason: str = ""
) -> Application:
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        transition(
            application, to=S.WITHDRAWN, acting_user=acting_user, reason=reason or "withdrawn"
        )
        offer = selectors.application_offer(application)
        if (
            offer is not None
            and offer.status in Offer.TRANSITIONS
            and "withdrawn" in Offer.TRANSITIONS[offer.status]
        ):
            transition(
                offer, to="withdrawn", acting_user=acting_user, reason="application withdrawn"
            )
    return application


# --- documents ---------------------------------------------------------------------------------

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
UPLOAD_OPEN_STATES = (S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.REFERRED, S.APPROVED)


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def _max_document_bytes() -> int:
    return int(getattr(settings, "ORIGINATION_DOCUMENT_MAX_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def _store_bytes(data: bytes, *, folder: str) -> str:
    name = f"origination/{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    return default_storage.save(name, ContentFile(data))


def document_upload(
    *, application: Application, acting_user: Any, doc_type: str, file: Any
) -> Document:
    """Store an uploaded file after sniffing its bytes; a re-upload supersedes rejected ones."""
    errors = _Errors()
    if doc_type not in Document.UPLOAD_TYPES:
        errors.add("doc_type", f"{doc_type!r} is not one of: {', '.join(Document.UPLOAD_TYPES)}.")
    limit = _max_document_bytes()
    data = b""
    if file is None:
        errors.add("file", "A file is required.")
    else:
        chunks, size = [], 0
        for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        data = b"".join(chunks)
        if not data:
            errors.add("file", "The file is empty.")
        elif len(data) > limit:
            errors.add("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
        elif sniff_content_type(data[:16]) is None:
            errors.add("file", "Only PDF, JPEG and PNG files are accepted (checked by content).")
    errors.raise_if_any()
    if application.status not in UPLOAD_OPEN_STATES:
        raise InvalidTransition(
            f"Documents cannot be added to an application that is {application.status}."
        )
    content_type = sniff_content_type(data[:16]) or "application/octet-stream"
    storage_name = _store_bytes(data, folder="documents")  # before the transaction: may be S3
    with transaction.atomic():
        locked = application_lock(application_id=application.pk)
        if locked.status not in UPLOAD_OPEN_STATES:
            default_storage.delete(storage_name)
            raise InvalidTransition(
                f"Documents cannot be added to an application that is {locked.status}."
            )
        for previous in locked.documents.filter(doc_type=doc_type, status=Document.Status.REJECTED):
            transition(previous, to="superseded", acting_user=acting_user, reason="re-uploaded")
        document = Document.objects.create(
            application=locked,
            doc_type=doc_type,
            storage_name=storage_name,
            original_name=str(getattr(file, "name", "") or "")[:255],
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=_user(acting_user),
        )
        DocumentEvent.objects.create(
            document=document, actor=_user(acting_user), from_status="", to_status="pending"
        )
    return document


def _document_generated(
    *, application: Application, doc_type: str, data: bytes, name: str, acting_user: Any
) -> Document:
    storage_name = _store_bytes(data, folder="generated")
    document = Document.objects.create(
        application=application,
        doc_type=doc_type,
        status=Document.Status.ACCEPTED,
        storage_name=storage_name,
        original_name=name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=_user(acting_user),
    )
    return document


@transaction.atomic
def document_review(
    *, document: Document, acting_user: Any, status: str, reason: str = ""
) -> Document:
    """Staff accept or reject an uploaded document (a rejection needs a reason)."""
    if status not in ("accepted", "rejected"):
        raise ValidationFailed.for_fields({"status": ["Must be accepted or rejected."]})
    if status == "rejected" and not reason.strip():
        raise ValidationFailed.for_fields({"reason": ["A rejection needs a reason."]})
    document = Document.objects.select_for_update().get(pk=document.pk)
    document.review_reason = reason
    document.reviewed_by = _user(acting_user)
    document.reviewed_at = timezone.now()
    transition(
        document,
        to=status,
        acting_user=acting_user,
        reason=reason,
        update_fields=["review_reason", "reviewed_by", "reviewed_at"],
    )
    return document


def application_documents_request(
    *, application: Application, acting_user: Any, doc_types: list[str], message: str = ""
) -> Application:
    """Staff ask the borrower for documents: audited, and e-mailed after commit."""
    bad = [t for t in doc_types if t not in Document.UPLOAD_TYPES]
    if not doc_types or bad:
        raise ValidationFailed.for_fields(
            {"doc_types": [f"Choose from: {', '.join(Document.UPLOAD_TYPES)}."]}
        )
    if application.status not in UPLOAD_OPEN_STATES:
        raise InvalidTransition(
            f"Documents cannot be requested for an application that is {application.status}."
        )
    with transaction.atomic():
        _audit(
            action="documents_requested",
            acting_user=acting_user,
            application=application,
            doc_types=doc_types,
            message=message,
        )
        _notify_on_commit(application.pk, "documents_requested")
    return application


def document_open(*, document: Document):
    return default_storage.open(document.storage_name, "rb")


# --- identity, bureau and the automated decision -----------------------------------------------


def _subject(applicant: Applicant) -> Subject:
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
    result = backend.verify(subject or _subject(applicant))
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
    result = backend.pull(subject or _subject(applicant))
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
    has_file = report is not None and report.has_file
    debts = report.monthly_debts if has_file else applicant.monthly_other_debts
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
        "delinquencies_24m": report.delinquencies_24m if has_file else None,
        "inquiries_6m": report.inquiries_6m if has_file else None,
        "bankruptcies": report.bankruptcies if has_file else None,
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


def decision_evaluate(
    *, rules_: Iterable[Any], features: Mapping[str, Any], tier: Mapping[str, str] | None
) -> rules.Evaluation:
    """The rule set's evaluation plus the pricing checks (tier found, amount within its max)."""
    evaluation = rules.evaluate(rules_, features)
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
    return rules.Evaluation(outcome=outcome, reasons=reasons, trace=trace)


def _mark_waiting(application: Application, reason: str, message: str) -> Application:
    with transaction.atomic():
        locked = application_lock(application_id=application.pk)
        if locked.status == S.IN_REVIEW and locked.status_reason != reason:
            locked.status_reason = reason
            locked.save(update_fields=["status_reason", "updated_at"])
        _audit(action=reason, acting_user=None, application=locked, message=message)
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
    subject = _subject(applicant)
    try:
        identity = identity_check_run(applicant=applicant, subject=subject)
    except IdentityUnavailable as exc:
        return _mark_waiting(application, ErrorCode.IDENTITY_UNAVAILABLE, exc.message)
    try:
        report = bureau_report_pull(applicant=applicant, subject=subject)
    except BureauUnavailable as exc:
        return _mark_waiting(application, ErrorCode.BUREAU_UNAVAILABLE, exc.message)

    on = _today()
    inputs = decision_inputs_build(
        application=application, applicant=applicant, report=report, identity=identity, on=on
    )
    rule_list = list(rule_set.rules.all())
    evaluation = decision_evaluate(rules_=rule_list, features=inputs.features, tier=inputs.tier)

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
            _offer_create(
                application=application,
                amount=application.amount,
                annual_rate=inputs.rate,
                term=application.term,
                acting_user=acting_user,
            )
        _decision_effects_on_commit(application.pk, to)
    return application


def _decision_effects_on_commit(application_id: int, status: str) -> None:
    from . import tasks

    if status == S.DECLINED:
        transaction.on_commit(lambda: tasks.adverse_action_notice_task.delay(application_id))
    else:
        _notify_on_commit(application_id, f"decision_{status}")
        if status == S.APPROVED:
            _notify_on_commit(application_id, "offer")


def decision_reproduce(*, decision: Decision) -> rules.Evaluation:
    """Evaluate a stored decision again from its inputs and its rule set version."""
    return decision_evaluate(
        rules_=decision.rule_set.rules.all(),
        features=decision.inputs["features"],
        tier=decision.inputs.get("tier"),
    )


def applications_waiting_retry(*, limit: int = 100) -> list[int]:
    return list(
        Application.objects.filter(status=S.IN_REVIEW, status_reason__in=WAITING_REASONS)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


# --- manual review, four-eyes ------------------------------------------------------------------


def _check_not_self(application: Application, acting_user: Any) -> None:
    applicant = application.applicant
    borrower_user_id = applicant.borrower.user_id if applicant.borrower_id else None
    if acting_user.pk in (application.created_by_id, applicant.created_by_id, borrower_user_id):
        raise SelfApproval("You cannot approve an application you created or are the applicant on.")


def application_approve(
    *,
    application: Application,
    acting_user: Any,
    amount: Decimal | None = None,
    annual_rate: Decimal | None = None,
    term: int | None = None,
) -> Application:
    """An underwriter approves a referred application, optionally with a counter-offer.

    Above the product's four-eyes limit the first approval is recorded and the application
    stays referred until a different underwriter approves too.
    """
    version = application.product_version
    errors = _terms_errors(version, amount=amount, term=term)
    if annual_rate is not None and not Decimal("0") <= annual_rate <= Decimal("100"):
        errors.add("annual_rate", "Must be between 0 and 100 (percent a year).")
    errors.raise_if_any("The counter-offer is outside the product's limits.")
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        if application.status != S.REFERRED:
            raise InvalidTransition(
                f"An application that is {application.status} cannot be approved; "
                "only referred applications are.",
                extra={"from": application.status, "to": S.APPROVED},
            )
        _check_not_self(application, acting_user)
        prior = list(application.underwriter_actions.filter(kind=UnderwriterAction.Kind.APPROVE))
        if any(p.underwriter_id == acting_user.pk for p in prior):
            raise FourEyesViolation(
                "You have already approved this application; a second, different underwriter "
                "must approve it."
            )
        last = prior[-1] if prior else None
        final_amount = amount or (last.amount if last else None) or application.amount
        final_term = term or (last.term if last else None) or application.term
        decision = selectors.application_latest_decision(application)
        final_rate = annual_rate
        if final_rate is None and last is not None:
            final_rate = last.annual_rate
        if final_rate is None:
            final_rate = (
                decision.offered_rate
                if decision is not None and decision.offered_rate is not None
                else pricing.fallback_rate(version)
            )
        UnderwriterAction.objects.create(
            application=application,
            underwriter=acting_user,
            kind=UnderwriterAction.Kind.APPROVE,
            amount=final_amount,
            annual_rate=final_rate,
            term=final_term,
        )
        counter = amount is not None or annual_rate is not None or term is not None
        _audit(
            action="underwriter_approval",
            acting_user=acting_user,
            application=application,
            amount=str(final_amount),
            annual_rate=str(final_rate),
            term=final_term,
            counter_offer=counter,
        )
        limit = version.four_eyes_limit
        if limit is not None and final_amount > limit and not prior:
            application.status_reason = "awaiting_second_approval"
            application.save(update_fields=["status_reason", "updated_at"])
            return application
        application.status_reason = ""
        application.decided_at = timezone.now()
        transition(
            application,
            to=S.APPROVED,
            acting_user=acting_user,
            reason="approved by underwriter" + (" with a counter-offer" if counter else ""),
            update_fields=["status_reason", "decided_at"],
        )
        _offer_create(
            application=application,
            amount=final_amount,
            annual_rate=final_rate,
            term=final_term,
            acting_user=acting_user,
        )
        _decision_effects_on_commit(application.pk, S.APPROVED)
    return application


def _reasons_parse(reasons: Iterable[Any]) -> list[dict[str, str]]:
    parsed: list[dict[str, str]] = []
    for item in reasons:
        if isinstance(item, Mapping):
            code, text = str(item.get("code", "")).strip(), str(item.get("text", "")).strip()
        else:
            text = str(item).strip()
            code = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")[:50]
        if text:
            parsed.append({"code": code or "OTHER", "text": text})
    return parsed


def application_decline(
    *, application: Application, acting_user: Any, reasons: Iterable[Any]
) -> Application:
    """An underwriter declines a referred application with up to four principal reasons."""
    parsed = _reasons_parse(reasons)
    if not parsed:
        raise ValidationFailed.for_fields({"reasons": ["At least one reason is required."]})
    if len(parsed) > rules.MAX_REASONS:
        raise ValidationFailed.for_fields(
            {"reasons": [f"At most {rules.MAX_REASONS} principal reasons."]}
        )
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        if application.status != S.REFERRED:
            raise InvalidTransition(
                f"An application that is {application.status} cannot be declined by an "
                "underwriter; only referred applications are.",
                extra={"from": application.status, "to": S.DECLINED},
            )
        UnderwriterAction.objects.create(
            application=application,
            underwriter=acting_user,
            kind=UnderwriterAction.Kind.DECLINE,
            reasons=parsed,
        )
        application.status_reason = ""
        application.decided_at = timezone.now()
        transition(
            application,
            to=S.DECLINED,
            acting_user=acting_user,
            reason="declined by underwriter: " + ", ".join(r["code"] for r in parsed),
            update_fields=["status_reason", "decided_at"],
        )
        _decision_effects_on_commit(application.pk, S.DECLINED)
    return application


def application_decline_reasons(application: Application) -> list[dict[str, str]]:
    action = (
        application.underwriter_actions.filter(kind=UnderwriterAction.Kind.DECLINE)
        .order_by("-id")
        .first()
    )
    if action is not None:
        return list(action.reasons)
    decision = selectors.application_latest_decision(application)
    return list(decision.reasons) if decision is not None else []


# --- offers ------------------------------------------------------------------------------------


def _offer_create(
    *,
    application: Application,
    amount: Decimal,
    annual_rate: Decimal,
    term: int,
    acting_user: Any,
) -> Offer:
    version = application.product_version
    on = _today()
    quote = pricing.quote_for(
        version,
        amount=amount,
        annual_rate=annual_rate,
        term=term,
        frequency=application.frequency,
        disbursement_date=on,
    )
    offer = Offer.objects.create(
        application=application,
        amount=amount,
        annual_rate=annual_rate,
        term=term,
        frequency=application.frequency,
        payment=quote.payment,
        apr=quote.apr,
        apr_exact=round_money(quote.apr_exact, 6),
        finance_charge=quote.finance_charge,
        amount_financed=quote.amount_financed,
        total_of_payments=quote.total_of_payments,
        origination_fee=quote.prepaid_fees + quote.financed_fees,
        note_principal=quote.note_principal,
        disbursement_date=on,
        first_due_date=quote.installments[0].due_date,
        installments=[pricing.installment_json(i) for i in quote.installments],
        expires_at=timezone.now() + timedelta(days=version.offer_validity_days),
    )
    OfferEvent.objects.create(
        offer=offer, actor=_user(acting_user), from_status="", to_status="open"
    )
    return offer


def _offer_open_check(application: Application, now: datetime) -> Offer:
    if application.status == S.EXPIRED:
        raise OfferExpired("This offer has expired.")
    if application.status != S.APPROVED:
        raise InvalidTransition(
            f"An application that is {application.status} has no offer to accept.",
            extra={"from": application.status, "to": S.OFFER_ACCEPTED},
        )
    offer = selectors.application_offer(application)
    if offer is None:
        raise NotFound("This application has no offer.")
    if offer.status == Offer.Status.EXPIRED or offer.expires_at <= now:
        raise OfferExpired(f"This offer expired on {offer.expires_at:%Y-%m-%d %H:%M} UTC.")
    if offer.status != Offer.Status.OPEN:
        raise InvalidTransition(f"This offer is {offer.status}.")
    return offer


def offer_accept(
    *,
    application: Application,
    acting_user: Any,
    signature_name: str,
    ip_address: str | None,
    on_behalf: bool = False,
) -> Application:
    """Accept the offer with a typed-name e-signature; render and store the TILA disclosure and
    the loan agreement. A loan officer accepting for the borrower is audited."""
    from . import pdfs

    signature_name = (signature_name or "").strip()
    if not signature_name:
        raise ValidationFailed.for_fields(
            {"signature_name": ["Type your full name to sign."]}, message="A signature is required."
        )
    now = timezone.now()
    application = Application.objects.select_related("applicant", "product", "product_version").get(
        pk=application.pk
    )
    offer = _offer_open_check(application, now)
    signature = {"name": signature_name, "at": now, "ip": ip_address, "on_behalf": on_behalf}
    tila_pdf = pdfs.tila_disclosure_pdf(application=application, offer=offer)
    agreement_pdf = pdfs.loan_agreement_pdf(
        application=application, offer=offer, signature=signature
    )
    with transaction.atomic():
        application = application_lock(application_id=application.pk)
        offer = _offer_open_check(application, now)
        offer.accepted_at = now
        offer.accepted_by = _user(acting_user)
        offer.signature_name = signature_name[:200]
        offer.signature_ip = ip_address or None
        offer.accepted_on_behalf = on_behalf
        transition(
            offer,
            to="accepted",
            acting_user=acting_user,
            reason="accepted on behalf of the borrower" if on_behalf else "accepted",
            update_fields=[
                "accepted_at",
                "accepted_by",
                "signature_name",
                "signature_ip",
                "accepted_on_behalf",
            ],
        )
        transition(
            application,
            to=S.OFFER_ACCEPTED,
            acting_user=acting_user,
            reason=f"offer accepted, signed {signature_name!r}",
        )
        _document_generated(
            application=application,
            doc_type=Document.DocType.TILA_DISCLOSURE,
            data=tila_pdf,
            name=f"tila-disclosure-{application.pk}.pdf",
            acting_user=acting_user,
        )
        _document_generated(
            application=application,
            doc_type=Document.DocType.LOAN_AGREEMENT,
            data=agreement_pdf,
            name=f"loan-agreement-{application.pk}.pdf",
            acting_user=acting_user,
        )
        if on_behalf:
            _audit(
                action="offer_accepted_on_behalf",
                acting_user=acting_user,
                application=application,
                signature_name=signature_name,
                ip=ip_address,
            )
        _notify_on_commit(application.pk, "accepted")
    return application


def offers_expire(*, now: datetime | None = None, acting_user: Any = None) -> int:
    """Expire the offers not accepted within the product's validity (periodic task)."""
    now = now or timezone.now()
    due = list(
        Offer.objects.filter(
            status=Offer.Status.OPEN, expires_at__lte=now, application__status=S.APPROVED
        )
        .order_by("application_id")
        .values_list("application_id", flat=True)
    )
    expired = 0
    for application_id in due:
        with transaction.atomic():
            application = application_lock(application_id=application_id)
            offer = selectors.application_offer(application)
            if application.status != S.APPROVED or offer is None or offer.expires_at > now:
                continue
            transition(offer, to="expired", acting_user=acting_user, reason="not accepted in time")
            transition(
                application, to=S.EXPIRED, acting_user=acting_user, reason="offer not accepted"
            )
            expired += 1
    return expired


# --- adverse action ----------------------------------------------------------------------------


def adverse_action_notice_create(*, application_id: int, acting_user: Any = None) -> Document:
    """Render and store the adverse-action notice of a declined application (idempotent)."""
    from . import pdfs

    application = Application.objects.select_related("applicant", "product").get(pk=application_id)
    existing = application.documents.filter(doc_type=Document.DocType.ADVERSE_ACTION_NOTICE).first()
    if existing is not None:
        return existing
    if application.status != S.DECLINED:
        raise InvalidTransition("Only a declined application has an adverse-action notice.")
    decision = selectors.application_latest_decision(application)
    report = decision.bureau_report if decision is not None else None
    data = pdfs.adverse_action_pdf(
        application=application,
        reasons=application_decline_reasons(application),
        report=report,
    )
    with transaction.atomic():
        application_lock(application_id=application_id)
        existing = application.documents.filter(
            doc_type=Document.DocType.ADVERSE_ACTION_NOTICE
        ).first()
        if existing is not None:
            return existing
        document = _document_generated(
            application=application,
            doc_type=Document.DocType.ADVERSE_ACTION_NOTICE,
            data=data,
            name=f"adverse-action-notice-{application.pk}.pdf",
            acting_user=acting_user,
        )
        _notify_on_commit(application.pk, "decision_declined")
    return document


# --- rule sets ---------------------------------------------------------------------------------


def _rules_check(rule_dicts: list[Mapping[str, Any]]) -> list[rules.RuleSpec]:
    fields: dict[str, list[str]] = {}
    specs: list[rules.RuleSpec] = []
    for i, raw in enumerate(rule_dicts):
        try:
            spec = rules.RuleSpec.of({"order": i + 1, **raw})
        except (TypeError, ValueError) as exc:
            fields.setdefault("rules", []).append(f"Rule {i + 1}: {exc}.")
            continue
        for field, message in rules.rule_error(spec).items():
            fields.setdefault("rules", []).append(f"Rule {i + 1} {field}: {message}")
        specs.append(spec)
    if not rule_dicts:
        fields.setdefault("rules", []).append("At least one rule.")
    if fields:
        raise ValidationFailed.for_fields(fields)
    return specs


@transaction.atomic
def rule_set_create(
    *, product: LoanProduct, acting_user: Any, rules: list[Mapping[str, Any]], name: str = ""
) -> RuleSet:
    """A new draft version of the product's rule set."""
    specs = _rules_check(rules)
    product_lock(product_id=product.pk)
    last = RuleSet.objects.filter(product=product).order_by("-version").first()
    rule_set = RuleSet.objects.create(
        product=product,
        version=(last.version + 1) if last else 1,
        name=name,
        created_by=_user(acting_user),
    )
    Rule.objects.bulk_create(
        Rule(
            rule_set=rule_set,
            order=spec.order,
            feature=spec.feature,
            operator=spec.operator,
            threshold=spec.threshold,
            outcome=spec.outcome,
            reason_code=spec.reason_code,
            reason_text=spec.reason_text,
        )
        for spec in specs
    )
    RuleSetEvent.objects.create(
        rule_set=rule_set, actor=_user(acting_user), from_status="", to_status="draft"
    )
    return rule_set


@transaction.atomic
def rule_set_activate(*, rule_set: RuleSet, acting_user: Any) -> RuleSet:
    """Make a rule set the product's one active set; the previous one is retired."""
    locked = {rs.pk: rs for rs in rule_sets_of_product_lock(product_id=rule_set.product_id)}
    target = locked[rule_set.pk]
    if target.status == RuleSet.Status.ACTIVE:
        return target
    if not target.rules.exists():
        raise ValidationFailed.for_fields({"rules": ["A rule set without rules cannot be active."]})
    for other in locked.values():
        if other.status == RuleSet.Status.ACTIVE:
            transition(
                other, to="retired", acting_user=acting_user, reason=f"v{target.version} activated"
            )
    target.activated_at = timezone.now()
    target.activated_by = _user(acting_user)
    transition(
        target,
        to="active",
        acting_user=acting_user,
        reason="activated",
        update_fields=["activated_at", "activated_by"],
    )
    return target


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
    decisions = selectors.decided_applications_for_backtest(
        product_id=rule_set.product_id, limit=limit
    )
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    flips: list[dict[str, Any]] = []
    for decision in decisions:
        evaluation = decision_evaluate(
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


# --- disbursement ------------------------------------------------------------------------------


def loan_boarding_build(*, application: Application, offer: Offer, disbursed_on: date):
    """The frozen snapshot servicing boards: the kernel's terms plus the product's policy."""
    from servicing.types import DEFAULT_ALLOCATION_ORDER, LateFeePolicy, LoanBoarding

    version = application.product_version
    terms = pricing.loan_terms_for(
        version,
        note_principal=offer.note_principal,
        annual_rate=offer.annual_rate,
        term=offer.term,
        frequency=offer.frequency,
        disbursement_date=disbursed_on,
    )
    return LoanBoarding(
        terms=terms,
        product_code=application.product.code,
        product_name=application.product.name,
        product_version=version.version,
        currency=version.currency,
        interest_model=version.interest_model,
        origination_fee=offer.origination_fee,
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
        annual_rate_pct=offer.annual_rate,
        apr=offer.apr,
    )


def _disburse_check_input(method: str, reference: str) -> None:
    errors = _Errors()
    if method not in DISBURSEMENT_METHODS:
        errors.add("method", f"{method!r} is not one of: {', '.join(DISBURSEMENT_METHODS)}.")
    if not (reference or "").strip():
        errors.add("reference", "This field is required.")
    errors.raise_if_any()


@transaction.atomic(durable=True)
def application_disburse(
    *, application: Application, acting_user: Any, method: str, reference: str
) -> Application:
    """Disburse an accepted offer: the application becomes `disbursed` and servicing boards
    the loan, in one durable transaction. A retry or a concurrent call returns the same loan."""
    from servicing.services import loan_board

    _disburse_check_input(method, reference)
    application = application_lock(application_id=application.pk)
    if application.status == S.DISBURSED:
        return application  # idempotent: the loan already exists
    if application.status != S.OFFER_ACCEPTED:
        raise InvalidTransition(
            f"An application that is {application.status} cannot be disbursed; "
            "the offer must be accepted first.",
            extra={"from": application.status, "to": S.DISBURSED},
        )
    offer = selectors.application_offer(application)
    assert offer is not None
    applicant = application.applicant
    if applicant.borrower_id is None:
        # Served in the branch without a portal login: the loan still needs its borrower.
        applicant.borrower = borrower_create_without_login(
            first_name=applicant.first_name,
            last_name=applicant.last_name,
            email=applicant.email,
            phone=applicant.phone,
        )
        applicant.save(update_fields=["borrower"])
    disbursed_on = _today()
    boarding = loan_boarding_build(application=application, offer=offer, disbursed_on=disbursed_on)
    loan = loan_board(
        boarding=boarding,
        borrower=applicant.borrower,
        application_ref=f"APP-{application.pk}",
        disbursed_on=disbursed_on,
        method=method,
        reference=reference.strip(),
        acting_user=acting_user,
    )
    application.loan = loan
    transition(
        application,
        to=S.DISBURSED,
        acting_user=acting_user,
        reason=f"disbursed by {method} ({reference.strip()})",
        update_fields=["loan"],
    )
    _notify_on_commit(application.pk, "disbursed")
    return application
