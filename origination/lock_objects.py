"""The only `select_for_update()` of origination. Lock in pk order, parent before child."""

from __future__ import annotations

from .errors import NotFound
from .models import Application, BorrowerInvitation, Document, LoanProduct, RuleSet


def application_lock(*, application_id: int) -> Application:
    application = (
        Application.objects.select_for_update()
        .select_related("applicant", "product", "product_version")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound("Application not found.")
    return application


def product_lock(*, product_id: int) -> LoanProduct:
    product = LoanProduct.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound("Product not found.")
    return product


def rule_sets_of_product_lock(*, product_id: int) -> list[RuleSet]:
    return list(RuleSet.objects.select_for_update().filter(product_id=product_id).order_by("pk"))


def document_lock(*, document_id: int) -> Document:
    document = Document.objects.select_for_update().filter(pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.")
    return document


def invitation_lock(*, invitation_id: int) -> BorrowerInvitation:
    invitation = (
        BorrowerInvitation.objects.select_for_update()
        .select_related("applicant", "borrower")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation
