"""Status machines: one `transition()` for every stateful model of every app.

A stateful model carries a `Status` (TextChoices), a `TRANSITIONS` table (from -> allowed
to), a check constraint built by `status_check()`, and a `status_event()` method that returns
the (unsaved) event row of one change. `transition()` is the only code that changes a status
row by row; COB's set-based SQL keeps its own statements, pinned by differential tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.db import models

from lendcore.errors import InvalidTransition


class Stateful(Protocol):
    """What `transition()` needs of a model instance."""

    TRANSITIONS: dict[str, tuple[str, ...]]
    status: str

    def status_event(
        self, *, from_status: str, to_status: str, actor: Any, reason: str, **event_fields: Any
    ) -> models.Model: ...

    def save(self, *args: Any, **kwargs: Any) -> None: ...


def actor_of(acting_user: Any) -> Any:
    """The user to record, or None for the system (COB, a task, an anonymous request)."""
    return acting_user if getattr(acting_user, "pk", None) else None


def can_transition(obj: Any, to: str) -> bool:
    """Whether `obj`'s table allows it to become `to` (the UI's guard and the service's test)."""
    return to in type(obj).TRANSITIONS.get(obj.status, ())


def transition(
    obj: Stateful,
    *,
    to: str,
    acting_user: Any,
    reason: str = "",
    update_fields: Iterable[str] = (),
    error: type[InvalidTransition] = InvalidTransition,
    **event_fields: Any,
) -> models.Model:
    """Move `obj` to `to` if its `TRANSITIONS` table allows it; save and write the event row.

    Refuses (`error`, HTTP 409, nothing written) what the table does not allow. Call it on a
    locked row inside the caller's transaction; `update_fields` saves the caller's other
    changes in the same UPDATE. `event_fields` go to the model's `status_event()` (a loan's
    business date, say). Returns the saved event row.
    """
    model = type(obj)
    current = obj.status
    if not can_transition(obj, to):
        label = model._meta.verbose_name  # type: ignore[attr-defined]
        raise error(
            f"A {label} that is {current} cannot become {to}.",
            code="invalid_transition",
            extra={"from": current, "to": to},
        )
    obj.status = to
    fields = ["status", *update_fields]
    if any(f.name == "updated_at" for f in model._meta.fields):  # type: ignore[attr-defined]
        fields.append("updated_at")
    obj.save(update_fields=list(dict.fromkeys(fields)))
    event = obj.status_event(
        from_status=current,
        to_status=to,
        actor=actor_of(acting_user),
        reason=reason[:500],
        **event_fields,
    )
    event.save(force_insert=True)
    return event


def status_check(status: type[models.TextChoices], *, name: str) -> models.CheckConstraint:
    """The check constraint that keeps a status column to its `Status` values."""
    return models.CheckConstraint(
        condition=models.Q(status__in=status.values),
        name=name,
    )


class StatusEvent(models.Model):
    """One row per status change: who, when, from, to and why. Concrete event models add
    the foreign key to what changed (and, for a loan, its business date and data)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]
