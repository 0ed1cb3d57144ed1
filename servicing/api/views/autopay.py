"""Autopay of a loan: read it, enrol (or change the account), cancel. The loan's borrower or
staff (staff who write need service_loans); the same services as the portal."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from lendcore.accounts.permissions import CanReadLoans
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_is_staff_member
from lendcore.api.fields import StrictCharField, StrictIntegerField, pattern_field
from lendcore.api.idempotency import IDEMPOTENCY_KEY_OPTIONAL, idempotent_response
from lendcore.api.views import ApiView, Idempotency
from servicing import autopay, rail_payments, selectors, servicing_history_reads
from servicing.models import Loan

from .common import parse_input, render, require_staff


@extend_schema_serializer(component_name="AutopayEnrolment")
class AutopayEnrolmentOutput(serializers.Serializer):
    """An autopay enrolment; the numbers are never shown in full."""

    id = StrictIntegerField()
    loan_id = StrictIntegerField()
    active = serializers.BooleanField()
    account_last4 = StrictCharField(help_text="The last four digits of the bank account.")
    routing_number_masked = StrictCharField(help_text="The routing number, its last four shown.")
    created_at = serializers.DateTimeField()
    created_by = StrictCharField(
        source="created_by.username",
        allow_null=True,
        help_text="Who enrolled: the borrower, staff on their request, or null (the system).",
    )
    cancelled_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was cancelled or replaced; null while active."
    )


@extend_schema_serializer(component_name="Autopay")
class AutopayOutput(serializers.Serializer):
    """The loan's autopay: its active enrolment (null when not enrolled) and the authorization
    a borrower agrees to when enrolling (Regulation E 12 CFR 1005.10(b))."""

    enrolled = serializers.BooleanField()
    enrolment = AutopayEnrolmentOutput(allow_null=True)
    authorization_version = StrictCharField()
    authorization_text = StrictCharField()


@extend_schema_field({"type": "boolean", "enum": [True]})
class _AuthorizedField(serializers.BooleanField):
    """Only `true`: the borrower's authorization of the recurring debits."""

    def to_internal_value(self, data: Any) -> bool:
        if data is not True:
            raise serializers.ValidationError(autopay.AUTHORIZED_MESSAGE)
        return True


def _fingerprint(data: Any) -> Any:
    """The body as the idempotency fingerprint keeps it: the account number only as a keyed
    hash."""
    if isinstance(data, dict) and data.get("account_number"):
        return {**data, "account_number": rail_payments.account_fingerprint(data["account_number"])}
    return data


def _loan_for_write(request, loan_id: int) -> Loan:
    """404 unless the caller sees the loan; staff need service_loans (403 before the body)."""
    if user_is_staff_member(request.user):
        require_staff(request.user, Action.POST_PAYMENT)
    return selectors.loan_get_for_write(user=request.user, loan_id=loan_id)


class LoanAutopayApi(ApiView):
    """GET the loan's autopay; POST enrols it (replacing an active enrolment, 201); DELETE
    cancels the active enrolment (200, the cancelled enrolment; 409 when there is none).
    A loan that is not active: 409, nothing changed."""

    idempotency = Idempotency.OWN

    permission_classes = [CanReadLoans]

    @extend_schema_serializer(component_name="AutopayEnrolInput")
    class Input(serializers.Serializer):
        account_number = pattern_field(
            r"^[0-9]{4,17}$",
            write_only=True,
            help_text="The bank account number: 4 to 17 digits. Stored encrypted, shown as "
            "its last four digits.",
        )
        routing_number = pattern_field(
            r"^[0-9]{9}$",
            write_only=True,
            help_text="The bank's 9-digit ABA routing number; its check digit must match "
            "(400 naming the field otherwise).",
        )
        authorized = _AuthorizedField(
            help_text="true: the borrower authorizes the recurring debits on the terms of "
            "`authorization_text` (GET). Staff send it on the borrower's request, with the "
            "borrower's authorization on file."
        )

    @extend_schema(responses=AutopayOutput)
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_for_write(user=request.user, loan_id=loan_id)
        enrolment = servicing_history_reads.loan_autopay_active(loan=loan)
        return Response(_status_body(enrolment))

    @extend_schema(
        request=Input,
        responses={201: AutopayEnrolmentOutput},
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
    )
    def post(self, request, loan_id: int):
        loan = _loan_for_write(request, loan_id)

        def execute() -> tuple[int, Any]:
            data = parse_input(self.Input, request.data)
            enrolment = autopay.autopay_enrol(
                loan=loan,
                account_number=data["account_number"],
                routing_number=data["routing_number"],
                authorized=data["authorized"],
                acting_user=request.user,
            )
            return status.HTTP_201_CREATED, render(AutopayEnrolmentOutput, enrolment)

        return idempotent_response(
            request,
            scope=f"servicing.autopay_enrol:{loan.pk}",
            payload=_fingerprint(request.data),
            execute=execute,
            required=False,
        )

    # 200 with the cancelled enrolment (drf-spectacular documents a bare DELETE as a 204)
    @extend_schema(
        request=None, responses={200: AutopayEnrolmentOutput}, parameters=[IDEMPOTENCY_KEY_OPTIONAL]
    )
    def delete(self, request, loan_id: int):
        loan = _loan_for_write(request, loan_id)

        def execute() -> tuple[int, Any]:
            enrolment = autopay.autopay_cancel(loan=loan, acting_user=request.user)
            return status.HTTP_200_OK, render(AutopayEnrolmentOutput, enrolment)

        return idempotent_response(
            request,
            scope=f"servicing.autopay_cancel:{loan.pk}",
            payload={},
            execute=execute,
            required=False,
        )


def _status_body(enrolment) -> dict[str, Any]:
    return {
        "enrolled": enrolment is not None,
        "enrolment": render(AutopayEnrolmentOutput, enrolment) if enrolment else None,
        "authorization_version": autopay.AUTHORIZATION_VERSION,
        "authorization_text": autopay.AUTHORIZATION_TEXT,
    }
