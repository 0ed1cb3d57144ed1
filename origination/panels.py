"""Origination's panels on other apps' pages (`lendcore.core.panels`), registered in
`OriginationConfig.ready()`: servicing's loan page shows the loan's application documents
without servicing importing origination."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from origination.selectors import (
    application_id_for_loan,
    documents_for_loan,
    user_sees_all_applications,
)


def loan_documents_panel(loan: Any, request: HttpRequest) -> str:
    """The documents of the application a loan came from, with a link to the application for
    those who may see applications. `loan` needs only `application_ref`."""
    application_ref = loan.application_ref
    return render_to_string(
        "origination/panels/loan_documents.html",
        {
            "application_ref": application_ref,
            "documents": list(documents_for_loan(application_ref=application_ref)),
            "application_id": application_id_for_loan(application_ref=application_ref)
            if user_sees_all_applications(request.user)
            else None,
        },
        request=request,
    )
