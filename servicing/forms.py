"""Servicing's staff and portal forms: they parse and check input, nothing more.

Every mutation form carries a hidden `idempotency_key` (a uuid4 made when the form is
drawn): the view runs the mutation once per key, so a double submit posts once.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms

from lendcore.core import crypto
from lendcore.errors import ApplicationError

from .autopay import autopay_input_errors
from .models import Fee, Loan, Payment
from .rail_payments import account_fingerprint, payment_request_input_errors

_AMOUNT_ERRORS = {
    "required": "Enter an amount.",
    "invalid": "Enter an amount such as 125.00.",
    "min_value": "The amount must be greater than zero.",
    "max_decimal_places": "The amount must be in whole cents (two decimals).",
    "max_digits": "That amount is too large.",
    "max_whole_digits": "That amount is too large.",
}


class _AmountField(forms.DecimalField):
    """Money as people type it ("1,250.00", "$125"); positive, whole cents."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("error_messages", _AMOUNT_ERRORS)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(",", "").replace(" ", "").lstrip("$")
        return super().to_python(value)


class _DateInput(forms.DateInput):
    input_type = "date"


def _new_key() -> str:
    return str(uuid.uuid4())


class ServicingForm(forms.Form):
    """Base: shows a service's `ApplicationError` on the field it names, else on the form."""

    def add_service_error(self, error: ApplicationError | dict) -> None:
        if isinstance(error, ApplicationError):
            message, extra = error.message, error.extra
        else:
            message, extra = error.get("message", "That did not work."), error.get("extra") or {}
        placed = False
        for name, messages in (extra.get("fields") or {}).items():
            target = getattr(self, "SERVICE_FIELDS", {}).get(name, name)
            texts = messages if isinstance(messages, list) else [messages]
            if target in ("__all__", "non_field_errors"):
                for text in texts:
                    self.add_error(None, str(text))
                placed = True
            elif target in self.fields:
                for text in texts:
                    self.add_error(target, str(text))
                placed = True
        if not placed:
            self.add_error(None, message)


class IdempotentForm(ServicingForm):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=_new_key)

    def payload(self) -> dict[str, str]:
        """The cleaned input (without the key) as strings: the idempotency fingerprint."""
        return {
            name: "" if value is None else str(value)
            for name, value in self.cleaned_data.items()
            if name != "idempotency_key"
        }

    def renew_key(self) -> None:
        """After a refused submission: the corrected form is a new request with a new key."""
        if self.is_bound:
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
            data[self.add_prefix("idempotency_key")] = _new_key()
            self.data = data


# --------------------------------------------------------------------------- staff


class PaymentForm(IdempotentForm):
    amount = _AmountField(label="Amount")
    effective_date = forms.DateField(
        label="Effective date",
        widget=_DateInput,
        help_text="The business date, or earlier to backdate (within the window).",
        error_messages={"required": "Enter the effective date.", "invalid": "Enter a date."},
    )
    method = forms.ChoiceField(label="Method", choices=Payment.Method.choices)
    reference = forms.CharField(label="Reference", max_length=128, required=False)
    allow_credit = forms.BooleanField(
        label="More than the payoff: keep the rest as the borrower's credit",
        required=False,
        help_text="Without it, an amount above today's payoff is refused.",
    )


class PrepaymentForm(PaymentForm):
    """A payment beyond what is due: the waterfall applies the excess to principal."""


class ReverseForm(IdempotentForm):
    payment = forms.TypedChoiceField(label="Payment", coerce=int, choices=())
    reason = forms.CharField(label="Reason", max_length=255)
    nsf = forms.BooleanField(
        label="Returned for insufficient funds (charges the NSF fee)", required=False
    )

    def __init__(self, *args: Any, payments: list[Payment] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["payment"]).choices = [
            (p.pk, f"#{p.pk} · {p.effective_date:%Y-%m-%d} · {p.amount} {p.get_method_display()}")
            for p in payments or []
        ]


class FeeAssessForm(IdempotentForm):
    kind = forms.ChoiceField(label="Kind", choices=Fee.Kind.choices, initial=Fee.Kind.MANUAL)
    amount = _AmountField(label="Amount")
    reason = forms.CharField(label="Reason", max_length=255)


class FeeWaiveForm(IdempotentForm):
    fee = forms.TypedChoiceField(label="Fee", coerce=int, choices=())
    amount = _AmountField(
        label="Amount to waive", required=False, help_text="Leave empty to waive all of it."
    )
    reason = forms.CharField(label="Reason", max_length=255)

    def __init__(self, *args: Any, fees: list[Fee] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["fee"]).choices = [
            (f.pk, f"#{f.pk} · {f.get_kind_display()} · {f.outstanding} outstanding")
            for f in fees or []
        ]


class RefundForm(IdempotentForm):
    amount = _AmountField(
        label="Amount to refund", required=False, help_text="Leave empty to refund all of it."
    )


class PayoffQuoteForm(ServicingForm):
    date = forms.DateField(
        label="Payoff date",
        widget=_DateInput,
        error_messages={"required": "Enter the payoff date.", "invalid": "Enter a date."},
    )


class ModificationForm(IdempotentForm):
    annual_rate_pct = forms.DecimalField(
        label="New rate (% a year)",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=8,
        decimal_places=4,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    remaining_term = forms.IntegerField(
        label="Remaining term (installments)", required=False, min_value=1
    )
    due_day = forms.IntegerField(label="Payment due day", required=False, min_value=1, max_value=28)
    defer_installments = forms.IntegerField(
        label="Defer installments", required=False, min_value=0, max_value=24
    )
    reason = forms.CharField(label="Reason", max_length=255)
    SERVICE_FIELDS = {"annual_rate": "annual_rate_pct"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        changes = [
            data.get("annual_rate_pct") is not None,
            data.get("remaining_term") is not None,
            data.get("due_day") is not None,
            bool(data.get("defer_installments")),
        ]
        if not any(changes):
            raise forms.ValidationError(
                "Change at least one of: rate, remaining term, due day, deferred installments."
            )
        return data


class ChargeOffRequestForm(IdempotentForm):
    reason = forms.CharField(label="Reason", max_length=255)


DECISIONS = (("approve", "Approve"), ("reject", "Reject"))


class ChargeOffDecideForm(IdempotentForm):
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.HiddenInput)
    reason = forms.CharField(label="Note", max_length=255, required=False)


class ChargeOffUndoForm(IdempotentForm):
    reason = forms.CharField(label="Reason", max_length=255)


class ModificationDecideForm(IdempotentForm):
    modification = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.HiddenInput)
    reason = forms.CharField(label="Note", max_length=255, required=False)


# --------------------------------------------------------------------------- filters


class LoanFilterForm(forms.Form):
    DPD_BUCKETS = (
        ("", "Any"),
        ("current", "Current (0)"),
        ("1-29", "1–29 days"),
        ("30-59", "30–59 days"),
        ("60-89", "60–89 days"),
        ("90+", "90+ days"),
    )
    BUCKET_RANGES: dict[str, tuple[int | None, int | None]] = {
        "current": (None, 0),
        "1-29": (1, 29),
        "30-59": (30, 59),
        "60-89": (60, 89),
        "90+": (90, None),
    }

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Loan number, borrower name or e-mail",
    )
    status = forms.ChoiceField(label="Status", required=False)
    product = forms.ChoiceField(label="Product", required=False)
    dpd = forms.ChoiceField(label="Days past due", required=False, choices=DPD_BUCKETS)

    def __init__(self, *args: Any, products: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", "Any"), *Loan.Status.choices]
        cast(forms.ChoiceField, self.fields["product"]).choices = [
            ("", "Any"),
            *((p, p) for p in products or []),
        ]

    def dpd_range(self) -> tuple[int | None, int | None]:
        return self.BUCKET_RANGES.get(self.cleaned_data.get("dpd") or "", (None, None))


# --------------------------------------------------------------------------- portal


class _NeverEchoed(forms.TextInput):
    """A text box never filled from the submitted value: a page shows no account number."""

    def format_value(self, value: Any) -> None:
        return None


class PortalPaymentForm(IdempotentForm):
    """A one-time payment: a debit of the borrower's bank account (ACH) or debit card through
    the payment rail. The account is checked by the service's own rule
    (`payment_request_input_errors`), so the review step shows what confirming would refuse.

    No page writes the account or routing number back (issue 10, point 10): a form shown
    again asks for them again, and the confirmation step carries them as one encrypted
    `sealed_account` token (`sealed()`), read back here when the account is not typed."""

    METHODS = (("ach", "Bank account (ACH)"), ("debit_card", "Debit card"))

    amount = _AmountField(label="Amount")
    method = forms.ChoiceField(label="Pay from", choices=METHODS, initial="ach")
    account_number = forms.CharField(
        label="Account or card number",
        max_length=40,
        help_text="Your bank account number (4 to 17 digits), or your debit card number "
        "(13 to 19 digits).",
        error_messages={"required": "Enter your bank account or debit card number."},
        widget=_NeverEchoed(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    routing_number = forms.CharField(
        label="Routing number",
        max_length=40,
        required=False,  # needed for a bank account only (checked in clean)
        help_text="Bank account (ACH) only: the 9 digits at the bottom left of a check.",
        widget=_NeverEchoed(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    routing_number.show_optional = False  # type: ignore[attr-defined]  # not for ACH
    sealed_account = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and data.get("sealed_account") and not data.get("account_number"):
            data = data.copy()
            try:
                account, _, routing = crypto.decrypt(data["sealed_account"]).partition("|")
            except crypto.InvalidToken:  # tampered with or too old: asked for again
                account = routing = ""
            data["account_number"], data["routing_number"] = account, routing
        super().__init__(data, *args, **kwargs)

    def sealed(self) -> str:
        """The valid account and routing numbers as one token, for the confirmation page."""
        account, routing = (
            "".join(ch for ch in self.cleaned_data.get(name) or "" if ch.isdigit())
            for name in ("account_number", "routing_number")
        )
        return crypto.encrypt(f"{account}|{routing}")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "method" in data:
            problems = payment_request_input_errors(
                method=data["method"],
                account_number=data.get("account_number"),
                routing_number=data.get("routing_number"),
            )
            for name, texts in problems.items():
                if name in self.fields and name not in self.errors:
                    for text in texts:
                        self.add_error(name, text)
        return data

    def payload(self) -> dict[str, str]:
        """The fingerprint keeps the account number only as a keyed hash."""
        payload = super().payload()
        payload["account_number"] = account_fingerprint(payload.get("account_number", ""))
        payload.pop("sealed_account", None)  # a new token each time: the account counts
        return payload


class PaymentRequestCancelForm(IdempotentForm):
    """Cancel a payment not sent yet (the button on the portal's loan page)."""


class AutopayEnrolForm(IdempotentForm):
    """Autopay from a bank account: the numbers (checked by the service's own rule,
    `autopay_input_errors`: the routing number's ABA check digit too) and the borrower's
    authorization of the recurring debits (Regulation E 12 CFR 1005.10(b)). No page writes
    the numbers back."""

    AUTHORIZED_LABEL = "I authorize these recurring debits as described above."

    account_number = forms.CharField(
        label="Bank account number",
        max_length=40,
        help_text="4 to 17 digits.",
        error_messages={"required": "Enter the bank account number."},
        widget=_NeverEchoed(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    routing_number = forms.CharField(
        label="Routing number",
        max_length=40,
        help_text="The 9 digits at the bottom left of a check.",
        error_messages={"required": "Enter the bank's routing number."},
        widget=_NeverEchoed(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    authorized = forms.BooleanField(
        label=AUTHORIZED_LABEL,
        error_messages={"required": "Tick the box to authorize the automatic debits."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authorized"].label = self.AUTHORIZED_LABEL

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = autopay_input_errors(
            account_number=data.get("account_number"),
            routing_number=data.get("routing_number"),
        )
        for name, texts in problems.items():
            if name in self.fields and name not in self.errors:
                for text in texts:
                    self.add_error(name, text)
        return data

    def payload(self) -> dict[str, str]:
        """The fingerprint keeps the account number only as a keyed hash."""
        payload = super().payload()
        payload["account_number"] = account_fingerprint(payload.get("account_number", ""))
        return payload


class StaffAutopayEnrolForm(AutopayEnrolForm):
    """Staff enrol on the borrower's request: they confirm the authorization is on file."""

    AUTHORIZED_LABEL = (
        "The borrower authorized these recurring debits (signed or recorded authorization on file)."
    )


class AutopayCancelForm(IdempotentForm):
    """Cancel the active autopay enrolment (a button)."""


class PortalPayoffForm(ServicingForm):
    date = forms.DateField(
        label="Payoff date",
        widget=_DateInput,
        error_messages={"required": "Enter the payoff date.", "invalid": "Enter a date."},
    )


class LoanTapeForm(ServicingForm):
    """The staff Loan tape page: a date, an optional product, a format (GET)."""

    as_of = forms.DateField(
        label="As of",
        widget=_DateInput,
        error_messages={"required": "Enter the tape's date.", "invalid": "Enter a date."},
    )
    product = forms.CharField(
        label="Product code", required=False, max_length=64, help_text="Every product if empty."
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[("csv", "CSV"), ("parquet", "Parquet")],
        initial="csv",
    )


class LoanAsOfForm(ServicingForm):
    """The staff loan page's date picker (GET `?as_of=`): the loan as of a past date."""

    as_of = forms.DateField(
        label="As of",
        widget=_DateInput,
        error_messages={"required": "Enter a date.", "invalid": "Enter a date (YYYY-MM-DD)."},
    )
