"""Integrators' own ids for our objects (issue 12).

An integrator (the user its API token belongs to) may give an applicant, an application, a
loan, a payment or a collection case its own `external_id`: unique per type and per
integrator, readable at `/api/v1/<type>/external-id/{external_id}/` and filterable on the
lists. Each model holds it with `ExternalIdFields`; every write goes through
`external_id_check` so the rule and its message are the same everywhere.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q

from lendcore.core.audit import Action as AuditAction
from lendcore.core.audit import audit_record
from lendcore.errors import Conflict, ValidationFailed

MAX_LENGTH = 100
# letters, digits and . _ : - (no spaces or slashes: it goes in a URL path), a letter or a
# digit first
PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}"
_VALID = re.compile(PATTERN)


class ExternalIdFields(models.Model):
    # NULL when not given (the unique constraint is partial on it)
    external_id = models.CharField(max_length=MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    # the integrator that named it: ids are unique per type and per integrator
    external_id_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True


def external_id_unique(name: str) -> models.UniqueConstraint:
    """The constraint each model lists in its Meta: one id per integrator and type."""
    return models.UniqueConstraint(
        fields=["external_id_owner", "external_id"],
        condition=Q(external_id__isnull=False),
        name=f"{name}_external_id_unique",
    )


def external_id_normalize(external_id: Any) -> str | None:
    """None or a valid id; anything else is a 400 naming `external_id`."""
    if external_id is None:
        return None
    if not isinstance(external_id, str) or not _VALID.fullmatch(external_id):
        raise ValidationFailed.for_fields(
            {
                "external_id": [
                    "Up to 100 letters, digits, '.', '_', ':' or '-', starting with a letter "
                    "or a digit."
                ]
            }
        )
    return external_id


def external_id_check(
    model: type[models.Model], *, owner: Any, external_id: str, instance: Any = None
) -> None:
    """Refuses (409) an id this integrator already gave another object of the type."""
    taken = model._default_manager.filter(external_id_owner=owner, external_id=external_id)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        label = model._meta.verbose_name
        raise Conflict(
            f"external_id {external_id!r} is already used by another {label}.",
            code="external_id_taken",
            extra={"fields": {"external_id": [f"Already used by another {label}."]}},
        )


@contextmanager
def external_id_guard(model: type[models.Model], *, owner: Any, external_id: str | None):
    """Around the write that stores an id: the unique constraint's error when a concurrent
    request took the id first becomes the same 409 as the check's."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        if external_id is not None:
            external_id_check(model, owner=owner, external_id=external_id)
        raise


def external_id_set(instance: Any, *, owner: Any, external_id: str | None) -> None:
    """Names `instance` with the integrator's id (None clears it); saves the two fields and
    records who did it (the audit trail). The caller holds the instance's lock."""
    external_id = external_id_normalize(external_id)
    previous = instance.external_id
    if external_id is not None:
        external_id_check(type(instance), owner=owner, external_id=external_id, instance=instance)
    instance.external_id = external_id
    instance.external_id_owner = owner if external_id is not None else None
    with external_id_guard(type(instance), owner=owner, external_id=external_id):
        instance.save(update_fields=["external_id", "external_id_owner"])
    audit_record(
        action=AuditAction.EXTERNAL_ID_SET,
        actor=owner,
        obj=instance,
        previous=previous,
        external_id=external_id,
    )
