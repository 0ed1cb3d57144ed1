"""Helpers every origination service shares: the business date, the acting user, the
audit row, field errors and the product-limit checks of an amount and a term."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from lendcore.core.audit import audit_record
from lendcore.finance.money import MONEY_MAX
from lendcore.webhooks.outbox import event_emit
from origination.errors import ValidationFailed
from origination.models import Applicant, Application, AuditEntry, ProductVersion
from servicing.selectors import business_date_get

S = Application.Status


def today() -> date:
    """The lender's business date (servicing keeps it)."""
    return business_date_get()


def application_event(type: str, application: Application, **data: Any) -> None:
    """Write the webhook event `type` of `application` to the outbox (in the caller's
    transaction)."""
    event_emit(
        type=type,
        data={
            "application_id": application.pk,
            "applicant_id": application.applicant_id,
            "status": application.status,
            **data,
        },
    )


def user_or_none(acting_user: Any) -> Any:
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def audit(
    *,
    action: str,
    acting_user: Any,
    application: Application | None = None,
    applicant: Applicant | None = None,
    **detail: Any,
) -> AuditEntry:
    """The application's own log (its page shows it) and the append-only audit trail, which
    keeps the row when the application or the user goes, with the client address."""
    subject = application if application is not None else applicant
    trail: dict[str, Any] = dict(detail)
    if application is not None:
        trail["application"] = application.pk
    audit_record(
        action=action,
        actor=user_or_none(acting_user),
        actor_name="" if acting_user is not None else "system",
        obj=subject,
        **trail,
    )
    return AuditEntry.objects.create(
        actor=user_or_none(acting_user),
        action=action,
        application=application,
        applicant=applicant,
        detail=detail,
    )


class FieldErrors:
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


def terms_errors(
    version: ProductVersion,
    *,
    amount: Decimal | None,
    term: int | None,
    frequency: str | None = None,
    errors: FieldErrors | None = None,
) -> FieldErrors:
    errors = errors or FieldErrors()
    if amount is not None and not version.min_amount <= amount <= version.max_amount:
        errors.add("amount", f"Must be between {version.min_amount:,} and {version.max_amount:,}.")
    if term is not None and not version.min_term <= term <= version.max_term:
        errors.add("term", f"Must be between {version.min_term} and {version.max_term} payments.")
    if frequency is not None and frequency not in (version.frequencies or []):
        allowed = ", ".join(version.frequencies or [])
        errors.add("frequency", f"{frequency!r} is not offered by this product ({allowed}).")
    return errors
