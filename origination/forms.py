"""Origination's staff and portal forms: they parse and check input, services decide.

Every form maps a service's `ValidationFailed` (its `extra["fields"]`) back onto its own
fields with `add_service_error`, so the page shows the service's message next to the input.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from lendcore.core import crypto
from lendcore.core.forms import LenientDecimalField, money_form_field
from lendcore.errors import ApplicationError
from lendcore.quotes.services import FREQUENCIES

from .models import Application, Document, LoanProduct, Rule

# Principal reasons in the style of Regulation B's sample form C-1 (code, text).
DECLINE_REASONS: tuple[tuple[str, str], ...] = (
    ("INCOME_INSUFFICIENT", "Income insufficient for amount of credit requested"),
    ("EXCESSIVE_OBLIGATIONS", "Excessive obligations in relation to income"),
    ("DELINQUENT_OBLIGATIONS", "Delinquent past or present credit obligations with others"),
    ("CREDIT_SCORE_TOO_LOW", "Credit score below our minimum requirement"),
    ("INSUFFICIENT_CREDIT_FILE", "Insufficient credit file"),
    ("UNABLE_TO_VERIFY_INCOME", "Unable to verify income"),
    ("UNABLE_TO_VERIFY_EMPLOYMENT", "Unable to verify employment"),
    ("LENGTH_OF_EMPLOYMENT", "Length of employment"),
    ("UNABLE_TO_VERIFY_IDENTITY", "Unable to verify identity"),
    ("APPLICATION_INCOMPLETE", "Credit application incomplete"),
    ("BANKRUPTCY", "Bankruptcy"),
)
_REASON_TEXT = dict(DECLINE_REASONS)
MAX_DECLINE_REASONS = 4


def add_service_error(form: forms.Form, error: ApplicationError, aliases: dict | None = None):
    """Show a service error on the form: each named field on its input, the rest on top."""
    aliases = aliases or {}
    fields = error.extra.get("fields") or {}
    placed = False
    for name, messages in fields.items():
        target = aliases.get(name, name)
        if not isinstance(messages, list | tuple):
            messages = [messages]
        for message in messages:
            if target in form.fields:
                form.add_error(target, str(message))
            else:
                form.add_error(None, f"{name}: {message}")
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _text(inputmode: str = "text", **attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": inputmode, **attrs})


# --- staff: queue -------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *Application.Status.choices]
    )
    product = forms.ModelChoiceField(
        label="Product",
        required=False,
        queryset=LoanProduct.objects.order_by("code"),
        empty_label="All products",
    )
    mine = forms.BooleanField(label="Assigned to me", required=False)


# --- staff: actions -----------------------------------------------------------------------------


class DocumentReviewForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("accepted", "Accept"), ("rejected", "Reject")], widget=forms.HiddenInput
    )
    reason = forms.CharField(label="Reason", max_length=500, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == "rejected" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the document is rejected; the borrower will see it.")
        return data


class ApproveForm(forms.Form):
    """An underwriter's approval; any of the three fields makes it a counter-offer."""

    amount = money_form_field(label="Amount", required=False, min_value=Decimal("0.01"))
    annual_rate = LenientDecimalField(
        label="Rate (% a year)",
        required=False,
        max_digits=8,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        widget=_text("decimal", autocomplete="off"),
    )
    term = forms.IntegerField(
        label="Term (payments)", required=False, min_value=1, max_value=600, widget=_text("numeric")
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in ("amount", "annual_rate", "term")}


class DeclineForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label="Principal reasons (at most four)",
        required=False,
        choices=DECLINE_REASONS,
        widget=forms.CheckboxSelectMultiple,
    )
    other_reason = forms.CharField(label="Other reason", max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [{"code": c, "text": _REASON_TEXT[c]} for c in data.get("reasons") or []]
        other = (data.get("other_reason") or "").strip()
        if other:
            chosen.append({"code": "OTHER", "text": other})
        if not chosen:
            self.add_error("reasons", "Choose at least one reason.")
        elif len(chosen) > MAX_DECLINE_REASONS:
            self.add_error("reasons", f"Choose at most {MAX_DECLINE_REASONS} principal reasons.")
        data["parsed_reasons"] = chosen
        return data


class DisburseForm(forms.Form):
    method = forms.ChoiceField(
        label="Method", choices=[("ach", "ACH"), ("wire", "Wire"), ("check", "Check")]
    )
    reference = forms.CharField(label="Reference", max_length=100)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)


class AcceptOfferForm(forms.Form):
    signature_name = forms.CharField(
        label="Type your full legal name to sign",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Type your full name to sign."},
    )
    consent = forms.BooleanField(
        label="I have read the Truth in Lending disclosure and agree to the loan agreement; "
        "my typed name is my electronic signature.",
        error_messages={"required": "Tick the box to agree."},
    )


class PortalAcceptOfferForm(AcceptOfferForm):
    """The borrower signs for the account the loan is paid to: required when none is on file,
    otherwise entered only to change it."""

    disbursement_account = forms.CharField(
        label="Account number the loan is paid to",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )


class DisbursementAccountForm(forms.Form):
    account = forms.CharField(
        label="New account number",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        error_messages={"required": "Enter the account number."},
    )


class RequestDocumentsForm(forms.Form):
    doc_types = forms.MultipleChoiceField(
        label="Documents to request",
        choices=[(t, Document.DocType(t).label) for t in Document.UPLOAD_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one document type."},
    )
    message = forms.CharField(
        label="Message to the borrower", max_length=500, required=False, widget=forms.Textarea
    )


# --- staff: rule sets ---------------------------------------------------------------------------


class RuleForm(forms.Form):
    feature = forms.ChoiceField(choices=Rule.Feature.choices)
    operator = forms.ChoiceField(choices=Rule.Operator.choices)
    threshold = forms.CharField(max_length=50, required=False)
    outcome = forms.ChoiceField(choices=Rule.Outcome.choices)
    reason_code = forms.CharField(max_length=50)
    reason_text = forms.CharField(max_length=300)


class _RuleFormSet(forms.BaseFormSet):
    def rules(self) -> list[dict[str, Any]]:
        kept = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE", False)
        ]
        return [
            {k: v for k, v in data.items() if k != "DELETE"} | {"order": i + 1}
            for i, data in enumerate(kept)
        ]


RuleFormSet = forms.formset_factory(RuleForm, formset=_RuleFormSet, extra=1, can_delete=True)


class RuleSetMetaForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, required=False)


class BacktestForm(forms.Form):
    limit = forms.IntegerField(
        label="Last N decided applications",
        min_value=1,
        max_value=10_000,
        initial=500,
        widget=_text("numeric"),
    )


# --- portal: apply -------------------------------------------------------------------------------


class ApplyTermsForm(forms.Form):
    """Step 1: what to borrow. Checked against the product's current limits."""

    product = forms.ModelChoiceField(
        label="Loan product",
        queryset=LoanProduct.objects.filter(active=True).order_by("code"),
        empty_label=None,
    )
    amount = money_form_field(
        label="Amount",
        min_value=Decimal("0.01"),
        error_messages={
            "required": "Enter the amount you want to borrow.",
            "invalid": "Enter an amount such as 10000.",
        },
    )
    term = forms.IntegerField(
        label="Number of payments",
        min_value=1,
        max_value=600,
        widget=_text("numeric", autocomplete="off"),
        error_messages={
            "required": "Enter the number of payments, e.g. 36.",
            "invalid": "Enter a whole number of payments, e.g. 36.",
        },
    )
    frequency = forms.ChoiceField(label="Payments", choices=list(FREQUENCIES.items()))
    purpose = forms.CharField(label="Purpose (optional)", max_length=200, required=False)

    def __init__(self, *args: Any, versions: dict[int, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = versions or {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        product = data.get("product")
        version = self.versions.get(product.pk) if product is not None else None
        if version is None:
            return data
        amount, term, frequency = data.get("amount"), data.get("term"), data.get("frequency")
        if amount is not None and not version.min_amount <= amount <= version.max_amount:
            self.add_error(
                "amount",
                f"Enter an amount between {version.min_amount:,.0f} and {version.max_amount:,.0f}.",
            )
        if term is not None and not version.min_term <= term <= version.max_term:
            self.add_error(
                "term", f"Choose between {version.min_term} and {version.max_term} payments."
            )
        if frequency and frequency not in (version.frequencies or []):
            allowed = ", ".join(FREQUENCIES.get(f, f).lower() for f in version.frequencies or [])
            self.add_error("frequency", f"This product offers {allowed} payments only.")
        return data

    def session_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data["product"].pk,
            "amount": str(data["amount"]),
            "term": data["term"],
            "frequency": data["frequency"],
            "purpose": data.get("purpose") or "",
        }


class _DateNeverEchoed(forms.DateInput):
    """A date box never refilled from what was typed: the date of birth stays off the page
    (a step 2 with errors asks for it again, like the SSN)."""

    def format_value(self, value: Any) -> None:
        return None


class ApplicantForm(forms.Form):
    """Step 2: about you. The service checks these again; the form names the field."""

    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth", widget=_DateNeverEchoed(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ssn = forms.RegexField(
        label="Social Security number",
        regex=r"^\s*[0-9]{3}-?[0-9]{2}-?[0-9]{4}\s*$",
        max_length=11,
        # Never written back into the page (issue 10, point 6): a form with errors asks again.
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "inputmode": "numeric"}
        ),
        error_messages={"invalid": "Enter the nine digits of your SSN, e.g. 123-45-6789."},
    )
    email = forms.EmailField(label="E-mail")
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    address_line1 = forms.CharField(label="Address", max_length=200)
    address_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    city = forms.CharField(label="City", max_length=100)
    state = forms.RegexField(
        label="State",
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        error_messages={"invalid": "Enter the two-letter state code, e.g. IL."},
    )
    postal_code = forms.CharField(label="ZIP code", max_length=10)
    employer = forms.CharField(label="Employer", max_length=200, required=False)
    months_employed = forms.IntegerField(
        label="Months with this employer", min_value=0, initial=0, widget=_text("numeric")
    )
    monthly_income = money_form_field(
        label="Monthly income (before tax)", min_value=Decimal("0.01")
    )
    monthly_housing_payment = money_form_field(label="Monthly rent or mortgage")
    monthly_other_debts = money_form_field(label="Other monthly debt payments")

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born is None:  # blank keeps the one on file
            return None
        today = timezone.localdate()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if born >= today:
            self.add_error("date_of_birth", "Enter a date in the past.")
        elif age < 18:
            self.add_error("date_of_birth", "You must be at least 18 years old to apply.")
        return born

    def __init__(
        self, *args: Any, ssn_on_file: str = "", born_on_file: str = "", **kwargs: Any
    ) -> None:
        """`ssn_on_file`: the last four of an SSN this draft already holds (encrypted in the
        session); `born_on_file`: the masked date of birth it holds (`••/••/1985`). Either
        field may then be left blank to keep it: neither is written back into the page."""
        super().__init__(*args, **kwargs)
        self.ssn_on_file = ssn_on_file
        if ssn_on_file:
            self.fields["ssn"].required = False
            self.fields["ssn"].help_text = f"On file: •••-••-{ssn_on_file}. Leave blank to keep it."
        if born_on_file:
            self.fields["date_of_birth"].required = False
            self.fields[
                "date_of_birth"
            ].help_text = f"On file: {born_on_file}. Leave blank to keep it."

    def clean_ssn(self) -> str:
        return "".join(ch for ch in self.cleaned_data["ssn"] if ch.isdigit())

    def clean_state(self) -> str:
        return self.cleaned_data["state"].upper()

    def session_data(self, *, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the draft keeps between steps: the SSN and the date of birth only encrypted
        (with the SSN's last four and the masked date), so the session store never holds them
        in clear; a blank SSN or date of birth keeps the one on file."""
        data = dict(self.cleaned_data)
        ssn = data.pop("ssn", "")
        if ssn:
            data["ssn_encrypted"] = crypto.encrypt(ssn)
            data["ssn_last4"] = ssn[-4:]
        elif previous:
            data["ssn_encrypted"] = previous["ssn_encrypted"]
            data["ssn_last4"] = previous["ssn_last4"]
        born = data.pop("date_of_birth", None)
        if born:
            data["date_of_birth_encrypted"] = crypto.encrypt(born.isoformat())
            data["date_of_birth_masked"] = crypto.mask_date(born)
        elif previous and "date_of_birth_encrypted" in previous:
            data["date_of_birth_encrypted"] = previous["date_of_birth_encrypted"]
            data["date_of_birth_masked"] = previous["date_of_birth_masked"]
        for name in ("monthly_income", "monthly_housing_payment", "monthly_other_debts"):
            data[name] = str(data[name])
        return data


class DocumentUploadForm(forms.Form):
    doc_type = forms.ChoiceField(
        label="Document type",
        choices=[(t, Document.DocType(t).label) for t in Document.UPLOAD_TYPES],
    )
    file = forms.FileField(
        label="File (PDF, JPEG or PNG, up to 10 MB)",
        allow_empty_file=True,  # the service refuses empty files with its own message
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        error_messages={"required": "Choose a file to upload."},
    )


class LoanImportForm(forms.Form):
    """A portfolio import upload (docs/import.md)."""

    file = forms.FileField(label="Loans CSV")
    payments_file = forms.FileField(label="Payment history CSV (optional)", required=False)
    valid_only = forms.BooleanField(
        label="Import the valid rows, report the others", required=False
    )
    dry_run = forms.BooleanField(label="Validate only (dry run)", required=False)
