"""Applicants: create, read, reveal the SSN (audited)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.accounts.models import Borrower
from lendcore.accounts.permissions import borrower_or_staff, has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import borrower_for_user
from lendcore.api.fields import (
    StrictCharField,
    StrictIntegerField,
    external_id_field,
    id_field,
    money_field,
    pattern_field,
)
from lendcore.api.views import ApiView, Idempotency, external_id_resolve
from origination import selectors, services
from origination.api.views._common import CENT, ZERO, borrower_or_manager, parse, staff_may_manage
from origination.errors import ValidationFailed
from origination.models import Applicant


class InvitationOutput(serializers.Serializer):
    id = StrictIntegerField()
    borrower = StrictIntegerField(source="borrower_id")
    status = StrictCharField()
    expires_at = serializers.DateTimeField()


class ApplicantOutput(serializers.ModelSerializer):
    """What the API shows of an applicant: the SSN's last four and the year of birth only
    (the full SSN through the audited reveal)."""

    date_of_birth_masked = StrictCharField(read_only=True)
    invitation = serializers.SerializerMethodField(
        help_text="The invitation of an existing borrower (staff named `borrower`), if any."
    )

    class Meta:
        model = Applicant
        fields = [
            "id",
            "borrower",
            "co_applicant",
            "first_name",
            "last_name",
            "date_of_birth_masked",
            "ssn_last4",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "employer",
            "months_employed",
            "monthly_income",
            "monthly_housing_payment",
            "monthly_other_debts",
            "external_id",
            "created_at",
            "invitation",
        ]

    @extend_schema_field(InvitationOutput(allow_null=True))
    def get_invitation(self, applicant: Applicant) -> dict[str, Any] | None:
        invitation = selectors.applicant_invitation_latest(applicant)
        return dict(InvitationOutput(invitation).data) if invitation is not None else None


class ApplicantCreateApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    class InputSerializer(serializers.Serializer):
        first_name = StrictCharField(max_length=100)
        last_name = StrictCharField(max_length=100)
        date_of_birth = serializers.DateField()
        ssn = pattern_field(
            r"^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$",
            max_length=20,
            write_only=True,
            help_text="Nine digits, as 123456789, 123-45-6789 or 123 45 6789.",
            error_messages={"invalid": "Must be nine digits."},
        )
        email = serializers.EmailField()
        phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
        address_line1 = StrictCharField(max_length=200)
        address_line2 = StrictCharField(
            max_length=200, required=False, allow_blank=True, default=""
        )
        city = StrictCharField(max_length=100)
        state = pattern_field(
            r"^[A-Za-z]{2}$",
            max_length=2,
            error_messages={"invalid": "Must be a two-letter state code."},
        )
        postal_code = StrictCharField(max_length=10)
        employer = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
        months_employed = StrictIntegerField(min_value=0, max_value=1200, default=0)
        monthly_income = money_field(min_value=CENT)
        monthly_housing_payment = money_field(default=ZERO)
        monthly_other_debts = money_field(default=ZERO)
        borrower = id_field(required=False, allow_null=True, default=None)
        co_applicant = id_field(required=False, allow_null=True, default=None)
        external_id = external_id_field(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: ApplicantOutput})
    def post(self, request: Request) -> Response:
        borrower_or_manager(request)
        data = parse(self.InputSerializer, request.data)
        borrower_id = data.pop("borrower")
        co_applicant_id = data.pop("co_applicant")
        invite = None
        if staff_may_manage(request.user):
            # Staff name an existing borrower: they are invited, never linked directly.
            borrower = None
            if borrower_id is not None:
                invite = Borrower.objects.filter(pk=borrower_id).first()
                if invite is None:
                    raise ValidationFailed.for_fields({"borrower": ["No such borrower."]})
        else:
            borrower = borrower_for_user(request.user)
        co_applicant = None
        if co_applicant_id is not None:
            co_applicant = (
                selectors.applicant_visible(user=request.user).filter(pk=co_applicant_id).first()
            )
            if co_applicant is None:
                raise ValidationFailed.for_fields({"co_applicant": ["No such applicant."]})
        applicant = services.applicant_create(
            acting_user=request.user,
            borrower=borrower,
            invite_borrower=invite,
            co_applicant=co_applicant,
            **data,
        )
        return Response(ApplicantOutput(applicant).data, status=status.HTTP_201_CREATED)


class ApplicantDetailApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    @extend_schema(responses=ApplicantOutput)
    def get(self, request: Request, applicant_id: int) -> Response:
        applicant = selectors.applicant_get(user=request.user, applicant_id=applicant_id)
        return Response(ApplicantOutput(applicant).data)


class ApplicantByExternalIdApi(ApplicantDetailApi):
    """The applicant you named `external_id` (`POST /applicants/` with `external_id`)."""

    @extend_schema(responses=ApplicantOutput)
    def get(self, request: Request, external_id: str) -> Response:  # type: ignore[override]
        pk = external_id_resolve(Applicant, request, external_id)
        return super().get(request, applicant_id=pk)


class ApplicantSsnRevealApi(ApiView):
    idempotency = Idempotency.NONE
    idempotency_exempt_reason = "an audited read: a stored answer would keep the SSN in clear"

    permission_classes = [has_staff_permission("reveal_ssn")]

    class OutputSerializer(serializers.Serializer):
        ssn = StrictCharField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request, applicant_id: int) -> Response:
        applicant = selectors.applicant_get(user=request.user, applicant_id=applicant_id)
        ssn = services.applicant_ssn_reveal(applicant=applicant, acting_user=request.user)
        return Response({"ssn": ssn})
