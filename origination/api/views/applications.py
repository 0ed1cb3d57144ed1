"""Applications: list, create, read, events and each step of the flow."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.accounts.permissions import borrower_or_staff, has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_is_staff_member
from lendcore.api.fields import (
    ACCOUNT_NUMBER_PATTERN,
    StrictCharField,
    StrictIntegerField,
    decimal_field,
    external_id_field,
    id_field,
    money_field,
    pattern_field,
)
from lendcore.api.idempotency import IDEMPOTENCY_KEY_REQUIRED, idempotent_response
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.query import query_params_strict
from lendcore.api.views import ApiView, Idempotency, external_id_resolve
from lendcore.quotes.services import FREQUENCIES
from origination import selectors, services
from origination.api.views._common import (
    CENT,
    borrower_or_manager,
    channel_of,
    client_ip,
    owner_or_staff,
    parse,
    staff_may_manage,
)
from origination.errors import NotFound, ValidationFailed
from origination.models import Application, ApplicationEvent, Decision, LoanProduct, Offer

# A borrower reads the outcome and the reasons they are owed (the adverse-action reasons), never
# the rule trace, thresholds, score inputs or bureau data: those are staff's only.
STAFF_ONLY_DECISION_FIELDS = (
    "score",
    "dti",
    "rules",
    "rule_set",
    "rule_set_version",
    "inputs",
    "bureau_report",
    "identity_check",
)


class DecisionOutput(serializers.ModelSerializer):
    dti = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, required=False, help_text="Staff only."
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "outcome",
            "score",
            "dti",
            "offered_rate",
            "max_amount",
            "reasons",
            "rules",
            "rule_set",
            "rule_set_version",
            "inputs",
            "bureau_report",
            "identity_check",
            "created_at",
        ]
        extra_kwargs = {
            name: {"required": False, "help_text": "Staff only."}
            for name in STAFF_ONLY_DECISION_FIELDS
            if name != "dti"
        }

    def to_representation(self, instance: Decision) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not user_is_staff_member(request.user):
            for name in STAFF_ONLY_DECISION_FIELDS:
                data.pop(name, None)
        return data


def decision_data(request: Request, decision: Decision) -> dict[str, Any]:
    return dict(DecisionOutput(decision, context={"request": request}).data)


class OfferOutput(serializers.ModelSerializer):
    class Meta:
        model = Offer
        fields = [
            "id",
            "status",
            "amount",
            "annual_rate",
            "term",
            "frequency",
            "payment",
            "apr",
            "finance_charge",
            "amount_financed",
            "total_of_payments",
            "origination_fee",
            "note_principal",
            "disbursement_date",
            "first_due_date",
            "installments",
            "expires_at",
            "accepted_at",
            "signature_name",
            "accepted_on_behalf",
        ]


class ApplicationListOutput(serializers.ModelSerializer):
    product_code = StrictCharField(source="product.code")
    product_version = StrictIntegerField(source="product_version.version")
    applicant_name = StrictCharField(source="applicant.full_name")
    loan = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "applicant",
            "applicant_name",
            "product",
            "product_code",
            "product_version",
            "amount",
            "term",
            "frequency",
            "purpose",
            "channel",
            "external_id",
            "status",
            "status_reason",
            "loan",
            "created_by",
            "assigned_officer",
            "created_at",
            "submitted_at",
            "decided_at",
        ]

    def get_loan(self, application: Application) -> int | None:
        return getattr(application, "loan_id", None)


class ApplicationDetailOutput(ApplicationListOutput):
    decision = serializers.SerializerMethodField()
    offer = serializers.SerializerMethodField()
    checklist = serializers.SerializerMethodField()
    disbursement_account = StrictCharField(
        source="disbursement_account_masked", help_text="Masked: the last four only."
    )

    class Meta(ApplicationListOutput.Meta):
        fields = [
            *ApplicationListOutput.Meta.fields,
            "disbursement_account",
            "decision",
            "offer",
            "checklist",
        ]

    @extend_schema_field(DecisionOutput(allow_null=True))  # null until decided
    def get_decision(self, application: Application) -> dict[str, Any] | None:
        decision = selectors.application_latest_decision(application)
        if decision is None:
            return None
        return decision_data(self.context["request"], decision)

    @extend_schema_field(OfferOutput(allow_null=True))  # null until an offer is made
    def get_offer(self, application: Application) -> dict[str, Any] | None:
        offer = selectors.application_offer(application)
        return OfferOutput(offer).data if offer is not None else None

    def get_checklist(self, application: Application) -> list[dict[str, Any]]:
        return selectors.application_checklist(application)


def application_detail_data(request: Request, application_id: int) -> dict[str, Any]:
    application = selectors.application_get(user=request.user, application_id=application_id)
    return dict(ApplicationDetailOutput(application, context={"request": request}).data)


_ONE_STATUS = "|".join(Application.Status.values)
_STATUS_LIST = rf"^(?:{_ONE_STATUS})(?:,(?:{_ONE_STATUS}))*$"


class ApplicationListCreateApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    pagination_class = BoundedLimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        status = StrictCharField(
            required=False,
            help_text="One status, or several separated by commas: "
            + ", ".join(Application.Status.values),
            # the schema shows this pattern, so it lists exactly what the filter takes
            validators=[
                RegexValidator(
                    _STATUS_LIST,
                    message="Unknown status; use one or more of "
                    + ", ".join(Application.Status.values)
                    + ", separated by commas.",
                )
            ],
        )
        product = id_field(required=False)
        applicant = id_field(required=False)
        created_from = serializers.DateTimeField(required=False)
        created_to = serializers.DateTimeField(required=False)
        external_id = external_id_field(required=False)

        def to_internal_value(self, data: Any) -> Any:
            data = data.copy() if hasattr(data, "copy") else dict(data)
            for key, end in (("created_from", False), ("created_to", True)):
                value = data.get(key)
                if value and len(value) == 10:  # a date: the whole day
                    try:
                        day = date.fromisoformat(value)
                    except ValueError:
                        continue
                    moment = datetime.combine(day, time.max if end else time.min)
                    data[key] = timezone.make_aware(moment).isoformat()
            return super().to_internal_value(data)

    class InputSerializer(serializers.Serializer):
        applicant = id_field()
        product = id_field()
        amount = money_field(min_value=CENT)
        term = StrictIntegerField(min_value=1, max_value=600)
        frequency = serializers.ChoiceField(choices=list(FREQUENCIES))
        purpose = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
        external_id = external_id_field(required=False, allow_null=True, default=None)
        assigned_officer = id_field(required=False, allow_null=True, default=None)
        disbursement_account = pattern_field(
            ACCOUNT_NUMBER_PATTERN,
            max_length=40,
            required=False,
            allow_blank=True,
            default="",
            write_only=True,
            error_messages={"invalid": "Enter the account number: 4 to 34 letters or digits."},
        )

    @extend_schema(parameters=[FilterSerializer], responses=ApplicationListOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = parse(self.FilterSerializer, query_params_strict(request))
        applications = selectors.application_list(
            user=request.user,
            status=filters.get("status"),
            product_id=filters.get("product"),
            applicant_id=filters.get("applicant"),
            created_from=filters.get("created_from"),
            created_to=filters.get("created_to"),
            external_id=filters.get("external_id"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(applications, request, view=self)
        return paginator.get_paginated_response(ApplicationListOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApplicationDetailOutput})
    def post(self, request: Request) -> Response:
        borrower_or_manager(request)
        data = parse(self.InputSerializer, request.data)
        errors: dict[str, list[str]] = {}
        applicant = (
            selectors.applicant_visible(user=request.user).filter(pk=data["applicant"]).first()
        )
        if applicant is None:
            errors["applicant"] = ["No such applicant."]
        product = LoanProduct.objects.filter(pk=data["product"]).first()
        if product is None:
            errors["product"] = ["No such product."]
        officer = None
        if data["assigned_officer"] is not None and staff_may_manage(request.user):
            officer = get_user_model().objects.filter(pk=data["assigned_officer"]).first()
            if officer is None:
                errors["assigned_officer"] = ["No such user."]
        if errors:
            raise ValidationFailed.for_fields(
                errors, message=f"Invalid input: {', '.join(errors)}."
            )
        assert applicant is not None
        assert product is not None
        application = services.application_create(
            acting_user=request.user,
            applicant=applicant,
            product=product,
            amount=data["amount"],
            term=data["term"],
            frequency=data["frequency"],
            purpose=data["purpose"],
            external_id=data["external_id"],
            channel=channel_of(request),
            assigned_officer=officer,
            disbursement_account=data["disbursement_account"] or None,
        )
        return Response(
            application_detail_data(request, application.pk), status=status.HTTP_201_CREATED
        )


class ApplicationDetailApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    @extend_schema(responses=ApplicationDetailOutput)
    def get(self, request: Request, application_id: int) -> Response:
        return Response(application_detail_data(request, application_id))


class ApplicationByExternalIdApi(ApplicationDetailApi):
    """The application you named `external_id` (`POST /applications/` with `external_id`)."""

    @extend_schema(responses=ApplicationDetailOutput)
    def get(self, request: Request, external_id: str) -> Response:  # type: ignore[override]
        pk = external_id_resolve(Application, request, external_id)
        return super().get(request, application_id=pk)


class ApplicationEventsApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = ApplicationEvent
            fields = ["id", "actor", "from_status", "to_status", "reason", "created_at"]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        events = application.events.order_by("id")
        return Response(self.OutputSerializer(events, many=True).data)


class ApplicationSubmitApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    @extend_schema(request=None, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        borrower_or_manager(request)
        services.application_submit(application=application, acting_user=request.user)
        return Response(application_detail_data(request, application_id))


class ApplicationWithdrawApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        borrower_or_manager(request)
        data = parse(self.InputSerializer, request.data)
        services.application_withdraw(
            application=application, acting_user=request.user, reason=data["reason"]
        )
        return Response(application_detail_data(request, application_id))


class ApplicationApproveApi(ApiView):
    permission_classes = [has_staff_permission("underwrite_applications")]

    class InputSerializer(serializers.Serializer):
        amount = money_field(min_value=CENT, required=False, allow_null=True, default=None)
        annual_rate = decimal_field(
            places=4,
            min_value=Decimal("0"),
            max_value=Decimal("100"),
            help_text="Percent a year; leave out (or null) to keep the decision's rate.",
            required=False,
            allow_null=True,
            default=None,
        )
        term = StrictIntegerField(min_value=1, required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        data = parse(self.InputSerializer, request.data)
        services.application_approve(application=application, acting_user=request.user, **data)
        return Response(application_detail_data(request, application_id))


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "minLength": 1, "maxLength": 300, "pattern": r"\S"},
            {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "maxLength": 50},
                    "text": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": r"\S"},
                },
                "required": ["text"],
                "additionalProperties": False,
            },
        ],
        "description": "A reason as text, or {code, text} (an adverse-action code and its text).",
    }
)
class DeclineReasonField(serializers.JSONField):
    """One decline reason: a text, or `{code, text}`; the schema says exactly this."""

    class _Coded(serializers.Serializer):
        code = StrictCharField(max_length=50, required=False, allow_blank=True)
        text = StrictCharField(max_length=300)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            if not data.strip() or len(data) > 300:
                raise serializers.ValidationError("A reason is a text of 1 to 300 characters.")
            return data
        if isinstance(data, dict):
            coded = self._Coded(data=data)
            text_is_text = isinstance(data.get("text"), str) and data["text"].strip()
            code_is_text = isinstance(data.get("code", ""), str)
            if set(data) - {"code", "text"} or not (text_is_text and code_is_text):
                raise serializers.ValidationError("A reason is {code, text} with a text.")
            if not coded.is_valid():
                raise serializers.ValidationError("A reason is {code, text} with a text.")
            return dict(coded.validated_data)
        raise serializers.ValidationError("Each reason is a text or {code, text}.")


class ApplicationDeclineApi(ApiView):
    permission_classes = [has_staff_permission("underwrite_applications")]

    class InputSerializer(serializers.Serializer):
        reasons = serializers.ListField(child=DeclineReasonField(), min_length=1, max_length=4)

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        data = parse(self.InputSerializer, request.data)
        services.application_decline(
            application=application, acting_user=request.user, reasons=data["reasons"]
        )
        return Response(application_detail_data(request, application_id))


class ApplicationDisbursementAccountApi(ApiView):
    """Record where the loan is paid out: the borrower until they accept (a change after
    acceptance reopens the offer), staff only before the offer is made."""

    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    class InputSerializer(serializers.Serializer):
        account = pattern_field(
            ACCOUNT_NUMBER_PATTERN,
            max_length=40,
            error_messages={"invalid": "Enter the account number: 4 to 34 letters or digits."},
        )

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        borrower_or_manager(request)
        data = parse(self.InputSerializer, request.data)
        services.application_disbursement_account_set(
            application=application, account=data["account"], acting_user=request.user
        )
        return Response(application_detail_data(request, application_id))


class ApplicationAcceptOfferApi(ApiView):
    """The borrower accepts and signs. Staff accepting on the borrower's behalf need the
    `accept_on_behalf` permission (409 otherwise); it is audited."""

    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    class InputSerializer(serializers.Serializer):
        signature_name = StrictCharField(max_length=200)
        disbursement_account = pattern_field(
            ACCOUNT_NUMBER_PATTERN,
            max_length=40,
            required=False,
            allow_blank=True,
            default="",
            error_messages={"invalid": "Enter the account number: 4 to 34 letters or digits."},
        )

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        borrower_or_manager(request)
        data = parse(self.InputSerializer, request.data)
        services.offer_accept(
            application=application,
            acting_user=request.user,
            signature_name=data["signature_name"],
            ip_address=client_ip(request),
            disbursement_account=data["disbursement_account"] or None,
        )
        return Response(application_detail_data(request, application_id))


class ApplicationDisburseApi(ApiView):
    idempotency = Idempotency.OWN

    permission_classes = [has_staff_permission("disburse_loans")]

    class InputSerializer(serializers.Serializer):
        method = serializers.ChoiceField(choices=list(services.DISBURSEMENT_METHODS))
        # The transfer's trace reference; the money goes to the application's recorded account.
        reference = StrictCharField(max_length=100)
        # Optional: when given it must be the recorded account (409 otherwise).
        account = StrictCharField(max_length=40, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses=ApplicationDetailOutput,
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
    )
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        body = request.data if isinstance(request.data, Mapping) else {"body": request.data}
        payload = {"application": application_id, **body}

        def execute() -> tuple[int, Any]:
            data = parse(self.InputSerializer, request.data)
            services.application_disburse(
                application=application,
                acting_user=request.user,
                method=data["method"],
                reference=data["reference"],
                account=data.get("account") or None,
            )
            return 200, application_detail_data(request, application_id)

        return idempotent_response(
            request,
            scope=f"application_disburse:{application_id}",
            payload=payload,
            execute=execute,
        )


class ApplicationDecisionApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    @extend_schema(responses=DecisionOutput)
    def get(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        decision = selectors.application_latest_decision(application)
        if decision is None:
            raise NotFound("This application has no decision yet.")
        return Response(decision_data(request, decision))


class ApplicationOfferApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]

    @extend_schema(responses=OfferOutput)
    def get(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        offer = selectors.application_offer(application)
        if offer is None:
            raise NotFound("This application has no offer.")
        return Response(OfferOutput(offer).data)
