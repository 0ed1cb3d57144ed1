"""Staff record the account a loan is paid to, before the offer only (then the borrower
alone changes it, in the portal)."""

from __future__ import annotations

from origination import services
from origination.forms import DisbursementAccountForm

from .staff import _ActionView


class ApplicationDisbursementAccountView(_ActionView):
    required_permissions = ("manage_applications",)
    form_class = DisbursementAccountForm
    form_name = "account_form"

    def perform(self, request, application, form) -> str:
        updated = services.application_disbursement_account_set(
            application=application, account=form.cleaned_data["account"], acting_user=request.user
        )
        return f"Disbursement account recorded ({updated.disbursement_account_masked})."
