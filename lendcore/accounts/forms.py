from django import forms
from django.contrib.auth import password_validation

from .tokens import DEFAULT_DAYS, MAX_DAYS, SCOPE_LABELS, TokenScope


class SignUpForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField()
    phone = forms.CharField(max_length=32, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_confirm = forms.CharField(
        label="Confirm password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords do not match.")
        return cleaned


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, help_text="What it is for, e.g. “nightly GL export”."
    )
    scope = forms.ChoiceField(choices=list(SCOPE_LABELS.items()), initial=TokenScope.READ_ONLY)
    expires_in_days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS
    )


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
