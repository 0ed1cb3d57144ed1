"""The queue page's forms (filters, a manager's reassignment), the case page's (contact,
follow-up, promise, phone payment, dispute) and the portal's contact preferences."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from django import forms

from lendcore.core.keyset import MAX_CURSOR_CHARS, CursorError, cursor_decode

from .models import Contact, HardshipPlan


class CursorField(forms.CharField):
    """A keyset page's position (`lendcore.core.keyset`), from the pager's links."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=MAX_CURSOR_CHARS, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return cursor_decode(value)
        except CursorError as error:
            raise forms.ValidationError("This page link is not valid: start again.") from error


class QueueFilterForm(forms.Form):
    """The queue's filters: a bucket, a product, an assignee (mine, or a named collector)."""

    # not drawn in the filter form (a new filter starts at the first page): the pager's links
    cursor = CursorField()

    bucket = forms.ChoiceField(required=False, label="Bucket")
    product = forms.ChoiceField(required=False, label="Product")
    assignee = forms.ChoiceField(required=False, label="Assignee")

    def __init__(
        self,
        *args,
        buckets: list[str],
        products: Sequence[tuple[str, str]] = (),
        collectors: Sequence[tuple[int, str]] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        choices = {
            "bucket": [("", "Every bucket"), *((b, b) for b in buckets)],
            "product": [("", "Every product"), *products],
            "assignee": [
                ("", "Everyone"),
                ("me", "Mine"),
                *((str(pk), name) for pk, name in collectors),
            ],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options


class CaseAssignForm(forms.Form):
    assignee = forms.TypedChoiceField(coerce=int, label="Assign to")

    def __init__(self, *args, collectors: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = collectors


# --------------------------------------------------------------------------- the case page
# Every mutation form carries a hidden idempotency key (a uuid4 made when the form is drawn):
# submitting it twice (a double click, a reload) does the work once.


def _new_key() -> str:
    return str(uuid.uuid4())


class IdempotentForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=_new_key)
    # a service's error field -> this form's field
    SERVICE_FIELDS: dict[str, str] = {}

    def payload(self) -> dict[str, str]:
        """The cleaned input (without the key) as strings: the idempotency fingerprint."""
        return {
            name: "" if value is None else str(value)
            for name, value in self.cleaned_data.items()
            if name != "idempotency_key"
        }

    def renew_key(self) -> None:
        """After a refusal: the corrected form is a new request with a new key."""
        if self.is_bound:
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
            data[self.add_prefix("idempotency_key")] = _new_key()
            self.data = data

    def add_service_error(self, body: dict) -> None:
        """Place an error answer ({message, code, extra}) on the fields it names."""
        placed = False
        for name, messages in ((body.get("extra") or {}).get("fields") or {}).items():
            target = self.SERVICE_FIELDS.get(name, name)
            if target in self.fields:
                for text in messages if isinstance(messages, list) else [messages]:
                    self.add_error(target, str(text))
                placed = True
        if not placed:
            self.add_error(None, body.get("message") or "That did not work.")


def _local(value: datetime | None, time_zone: str) -> datetime | None:
    """A naive datetime typed by the collector, read in the borrower's time zone."""
    if value is None:
        return None
    naive = value.replace(tzinfo=None)
    return naive.replace(tzinfo=ZoneInfo(time_zone))


_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContactForm(IdempotentForm):
    channel = forms.ChoiceField(choices=Contact.Channel.choices, label="Channel")
    direction = forms.ChoiceField(
        choices=Contact.Direction.choices, label="Direction", initial="outbound"
    )
    outcome = forms.ChoiceField(choices=Contact.Outcome.choices, label="Outcome")
    at = forms.DateTimeField(
        required=False,
        label="When (the borrower's local time)",
        widget=_DATETIME,
        help_text="Empty: now.",
    )
    notes = forms.CharField(
        required=False, max_length=2000, label="Notes", widget=forms.Textarea(attrs={"rows": 2})
    )

    def at_aware(self, time_zone: str) -> datetime | None:
        return _local(self.cleaned_data.get("at"), time_zone)


class FollowUpForm(IdempotentForm):
    at = forms.DateTimeField(label="When (the borrower's local time)", widget=_DATETIME)
    channel = forms.ChoiceField(choices=Contact.Channel.choices, label="Channel")
    note = forms.CharField(required=False, max_length=500, label="Note")

    def at_aware(self, time_zone: str) -> datetime | None:
        return _local(self.cleaned_data.get("at"), time_zone)


PROMISE_ROWS = 4


class PromiseForm(IdempotentForm):
    """Up to four instalments: the first row is required, the others optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for row in range(1, PROMISE_ROWS + 1):
            first = row == 1
            self.fields[f"amount_{row}"] = forms.DecimalField(
                required=first,
                max_digits=12,
                decimal_places=2,
                label=f"Instalment {row}: amount",
            )
            self.fields[f"due_date_{row}"] = forms.DateField(
                required=first, label=f"Instalment {row}: date", widget=_DATE
            )
            self.SERVICE_FIELDS = {
                **self.SERVICE_FIELDS,
                f"instalments[{row - 1}].amount": f"amount_{row}",
                f"instalments[{row - 1}].due_date": f"due_date_{row}",
            }

    def clean(self):
        data = super().clean() or {}
        for row in range(2, PROMISE_ROWS + 1):
            amount, due = data.get(f"amount_{row}"), data.get(f"due_date_{row}")
            if (amount is None) != (due is None) and not self.errors.get(f"amount_{row}"):
                self.add_error(
                    f"amount_{row}" if amount is None else f"due_date_{row}",
                    "Give both the amount and the date of this instalment.",
                )
        return data

    def instalments(self) -> list[tuple[Decimal, date]]:
        rows = []
        for row in range(1, PROMISE_ROWS + 1):
            amount = self.cleaned_data.get(f"amount_{row}")
            due = self.cleaned_data.get(f"due_date_{row}")
            if amount is not None and due is not None:
                rows.append((amount, due))
        return rows


class PhonePaymentForm(IdempotentForm):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, label="Amount")
    method = forms.ChoiceField(
        choices=[("debit_card", "Debit card"), ("ach", "Bank account (ACH)")], label="Method"
    )
    reference = forms.CharField(
        required=False, max_length=128, label="Reference", help_text="Card or authorisation ref."
    )


class DisputeForm(IdempotentForm):
    note = forms.CharField(max_length=500, label="What is disputed / how it was resolved")


class ContactPreferencesForm(forms.Form):
    """The borrower's own contact preferences (portal)."""

    time_zone = forms.ChoiceField(label="Your time zone")
    call_opt_out = forms.BooleanField(required=False, label="No phone calls")
    email_opt_out = forms.BooleanField(required=False, label="No e-mail")
    sms_opt_out = forms.BooleanField(required=False, label="No text messages (SMS)")
    letter_opt_out = forms.BooleanField(required=False, label="No letters")
    cease_communication = forms.BooleanField(
        required=False,
        label="Stop all collection contact",
        help_text="We will then only send the notices the law requires. You can still call us.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(z, z.replace("_", " ")) for z in _time_zones()]


def _time_zones() -> list[str]:
    return sorted(
        z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    )


# --------------------------------------------------------------------------- workouts


class HardshipRequestForm(forms.Form):
    """A hardship plan request (a collector on the case page, a borrower in the portal)."""

    kind = forms.ChoiceField(label="Kind of plan")
    months = forms.IntegerField(label="Months", min_value=1, max_value=12)
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = HardshipPlan.Kind.choices


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(label="Reason", max_length=255, required=False)


class RecommendForm(forms.Form):
    reason = forms.CharField(label="Why charge it off", max_length=255)

    def __init__(self, *args, **kwargs):
        # on the case page beside the hardship form, whose `reason` is id_reason
        kwargs.setdefault("auto_id", "id_charge_off_%s")
        super().__init__(*args, **kwargs)


class PlacementForm(forms.Form):
    agency = forms.CharField(label="Agency", max_length=100)
    recommendations = forms.TypedMultipleChoiceField(coerce=int, label="Charged-off cases")

    def __init__(self, *args, choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["recommendations"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
