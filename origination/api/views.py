"""Origination's REST API: one APIView per operation, nested Input/Output serializers.

Views parse, check permission, call one service or selector and render. A borrower reaches
only their own applicants, applications and documents (others answer 404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import perm
from lendcore.accounts.selectors import borrower_for_user, user_is_staff_member
from lendcore.api.fields import id_field, money_field
from lendcore.api.idempotency import idempotent_response
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.quotes.services import FREQUENCIES
from origination import selectors, services
from origination.errors import NotFound, PermissionDenied, ValidationFailed
from origination.models import (
    Applicant,
    Application,
    ApplicationEvent,
    Decision,
    Document,
    LoanProduct,
    Offer,
    ProductVersion,
    Rule,
    RuleSet,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _has(user: Any, codename: str) -> bool:
    return user_is_staff_member(user) and user.has_perm(perm(codename))


def _require(user: Any, *codenames: str) -> None:
    if not all(_has(user, c) for c in codenames):
        raise PermissionDenied("This action needs a staff role with: " + ", ".join(codenames) + ".")


def _parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        fields = {
            k: [str(m) for m in v] if isinstance(v, list) else v
            for k, v in serializer.errors.items()
        }
        names = ", ".join(sorted(k for k in fields if k != "non_field_errors"))
        message = f"Invalid input: {names}." if names else str(fields["non_field_errors"][0])
        raise ValidationFailed.for_fields(fields, message=message)
    return dict(serializer.validated_data)


def _channel(request: Request) -> str:
    if isinstance(request.auth, Token):
        return Application.Channel.API
    if user_is_staff_member(request.user):
        return Application.Channel.STAFF
    return Application.Channel.PORTAL


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _owner_or_staff(request: Request, application_id: int) -> Application:
    """The application if the user may work it: its borrower, or staff managing applications."""
    return selectors.application_get(user=request.user, application_id=application_id)


def _staff_may_manage(user: Any) -> bool:
    return _has(user, "manage_applications")


def _borrower_or_manager(request: Request) -> None:
    if _staff_may_manage(request.user):
        return
    if user_is_staff_member(request.user) or borrower_for_user(request.user) is None:
        raise PermissionDenied("Only the borrower or staff managing applications may do this.")


# --- products ----------------------------------------------------------------------------------


class ProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    active = serializers.BooleanField()

    def to_representation(self, product: LoanProduct) -> dict[str, Any]:
        data = super().to_representation(product)
        version = selectors.product_current_version(product)
        data.update(ProductVersionOutput(version).data)
        return data


class ProductVersionOutput(serializers.ModelSerializer):
    class Meta:
        model = ProductVersion
        fields = ["version", *services.PRODUCT_TERM_FIELDS]


class ProductListCreateApi(APIView):
    class InputSerializer(serializers.ModelSerializer):
        code = serializers.CharField(max_length=32)
        name = serializers.CharField(max_length=200)
        active = serializers.BooleanField(default=True)
        min_amount = money_field(min_value=CENT)
        max_amount = money_field(min_value=CENT)
        late_fee_value = money_field(required=False)
        late_fee_cap = money_field(required=False, allow_null=True)
        nsf_fee = money_field(required=False)
        four_eyes_limit = money_field(required=False, allow_null=True)

        class Meta:
            model = ProductVersion
            fields = ["code", "name", "active", *ProductVersionOutput.Meta.fields[1:]]
            extra_kwargs = {"frequencies": {"required": True}}

    @extend_schema(responses=ProductOutput(many=True))
    def get(self, request: Request) -> Response:
        active_only = not _has(request.user, "manage_products")
        products = selectors.product_list(active_only=active_only)
        return Response(ProductOutput(products, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProductOutput})
    def post(self, request: Request) -> Response:
        _require(request.user, "manage_products")
        data = _parse(self.InputSerializer, request.data)
        product = services.product_create(acting_user=request.user, **data)
        product = selectors.product_get(product_id=product.pk)
        return Response(ProductOutput(product).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    @extend_schema(responses=ProductOutput)
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.product_get(product_id=product_id)
        if not product.active and not _has(request.user, "manage_products"):
            raise NotFound("Product not found.")
        return Response(ProductOutput(product).data)


# --- applicants --------------------------------------------------------------------------------


class ApplicantOutput(serializers.ModelSerializer):
    class Meta:
        model = Applicant
        fields = [
            "id",
            "borrower",
            "co_applicant",
            "first_name",
            "last_name",
            "date_of_birth",
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
            "created_at",
        ]


class ApplicantCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=100)
        last_name = serializers.CharField(max_length=100)
        date_of_birth = serializers.DateField()
        ssn = serializers.CharField(max_length=20, write_only=True)
        email = serializers.EmailField()
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
        address_line1 = serializers.CharField(max_length=200)
        address_line2 = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default=""
        )
        city = serializers.CharField(max_length=100)
        state = serializers.CharField(max_length=2, min_length=2)
        postal_code = serializers.CharField(max_length=10)
        employer = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default=""
        )
        months_employed = serializers.IntegerField(min_value=0, max_value=1200, default=0)
        monthly_income = money_field(min_value=CENT)
        monthly_housing_payment = money_field(default=ZERO)
        monthly_other_debts = money_field(default=ZERO)
        borrower = id_field(required=False, allow_null=True, default=None)
        co_applicant = id_field(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: ApplicantOutput})
    def post(self, request: Request) -> Response:
        _borrower_or_manager(request)
        data = _parse(self.InputSerializer, request.data)
        borrower_id = data.pop("borrower")
        co_applicant_id = data.pop("co_applicant")
        if _staff_may_manage(request.user):
            borrower = None
            if borrower_id is not None:
                from lendcore.accounts.models import Borrower

                borrower = Borrower.objects.filter(pk=borrower_id).first()
                if borrower is None:
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
            acting_user=request.user, borrower=borrower, co_applicant=co_applicant, **data
        )
        return Response(ApplicantOutput(applicant).data, status=status.HTTP_201_CREATED)


class ApplicantDetailApi(APIView):
    @extend_schema(responses=ApplicantOutput)
    def get(self, request: Request, applicant_id: int) -> Response:
        applicant = selectors.applicant_get(user=request.user, applicant_id=applicant_id)
        return Response(ApplicantOutput(applicant).data)


class ApplicantSsnRevealApi(APIView):
    permission_classes = [has_staff_permission("reveal_ssn")]

    class OutputSerializer(serializers.Serializer):
        ssn = serializers.CharField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request, applicant_id: int) -> Response:
        applicant = selectors.applicant_get(user=request.user, applicant_id=applicant_id)
        ssn = services.applicant_ssn_reveal(applicant=applicant, acting_user=request.user)
        return Response({"ssn": ssn})


# --- applications ------------------------------------------------------------------------------


class DecisionOutput(serializers.ModelSerializer):
    dti = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)

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
    product_code = serializers.CharField(source="product.code")
    product_version = serializers.IntegerField(source="product_version.version")
    applicant_name = serializers.CharField(source="applicant.full_name")
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

    class Meta(ApplicationListOutput.Meta):
        fields = [*ApplicationListOutput.Meta.fields, "decision", "offer", "checklist"]

    def get_decision(self, application: Application) -> dict[str, Any] | None:
        decision = selectors.application_latest_decision(application)
        return DecisionOutput(decision).data if decision is not None else None

    def get_offer(self, application: Application) -> dict[str, Any] | None:
        offer = selectors.application_offer(application)
        return OfferOutput(offer).data if offer is not None else None

    def get_checklist(self, application: Application) -> list[dict[str, Any]]:
        return selectors.application_checklist(application)


def _detail(request: Request, application_id: int) -> dict[str, Any]:
    application = selectors.application_get(user=request.user, application_id=application_id)
    return dict(ApplicationDetailOutput(application).data)


class ApplicationListCreateApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False)
        product = id_field(required=False)
        applicant = id_field(required=False)
        created_from = serializers.DateTimeField(required=False)
        created_to = serializers.DateTimeField(required=False)

        def validate_status(self, value: str) -> str:
            bad = [s for s in value.split(",") if s not in Application.Status.values]
            if bad:
                raise serializers.ValidationError(f"Unknown status: {', '.join(bad)}.")
            return value

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
        term = serializers.IntegerField(min_value=1, max_value=600)
        frequency = serializers.ChoiceField(choices=list(FREQUENCIES))
        purpose = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default=""
        )
        external_id = serializers.CharField(
            max_length=100, required=False, allow_null=True, allow_blank=True, default=None
        )
        assigned_officer = id_field(required=False, allow_null=True, default=None)

    @extend_schema(parameters=[FilterSerializer], responses=ApplicationListOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = _parse(self.FilterSerializer, request.query_params)
        applications = selectors.application_list(
            user=request.user,
            status=filters.get("status"),
            product_id=filters.get("product"),
            applicant_id=filters.get("applicant"),
            created_from=filters.get("created_from"),
            created_to=filters.get("created_to"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(applications, request, view=self)
        return paginator.get_paginated_response(ApplicationListOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApplicationDetailOutput})
    def post(self, request: Request) -> Response:
        _borrower_or_manager(request)
        data = _parse(self.InputSerializer, request.data)
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
        if data["assigned_officer"] is not None and _staff_may_manage(request.user):
            from django.contrib.auth import get_user_model

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
            channel=_channel(request),
            assigned_officer=officer,
        )
        return Response(_detail(request, application.pk), status=status.HTTP_201_CREATED)


class ApplicationDetailApi(APIView):
    @extend_schema(responses=ApplicationDetailOutput)
    def get(self, request: Request, application_id: int) -> Response:
        return Response(_detail(request, application_id))


class ApplicationEventsApi(APIView):
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = ApplicationEvent
            fields = ["id", "actor", "from_status", "to_status", "reason", "created_at"]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        events = application.events.order_by("id")
        return Response(self.OutputSerializer(events, many=True).data)


class ApplicationSubmitApi(APIView):
    @extend_schema(request=None, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        _borrower_or_manager(request)
        services.application_submit(application=application, acting_user=request.user)
        return Response(_detail(request, application_id))


class ApplicationWithdrawApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        _borrower_or_manager(request)
        data = _parse(self.InputSerializer, request.data)
        services.application_withdraw(
            application=application, acting_user=request.user, reason=data["reason"]
        )
        return Response(_detail(request, application_id))


class ApplicationApproveApi(APIView):
    permission_classes = [has_staff_permission("underwrite_applications")]

    class InputSerializer(serializers.Serializer):
        amount = money_field(min_value=CENT, required=False, allow_null=True, default=None)
        annual_rate = serializers.DecimalField(
            max_digits=8, decimal_places=4, required=False, allow_null=True, default=None
        )
        term = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        data = _parse(self.InputSerializer, request.data)
        services.application_approve(application=application, acting_user=request.user, **data)
        return Response(_detail(request, application_id))


class ApplicationDeclineApi(APIView):
    permission_classes = [has_staff_permission("underwrite_applications")]

    class InputSerializer(serializers.Serializer):
        class ReasonSerializer(serializers.Serializer):
            code = serializers.CharField(max_length=50, required=False, allow_blank=True)
            text = serializers.CharField(max_length=300)

        reasons = serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=4)

        def validate_reasons(self, value: list[Any]) -> list[Any]:
            for item in value:
                if isinstance(item, dict):
                    reason = self.ReasonSerializer(data=item)
                    if not reason.is_valid():
                        raise serializers.ValidationError("Each reason needs a text.")
                elif not isinstance(item, str) or not item.strip():
                    raise serializers.ValidationError("Each reason is a text or {code, text}.")
            return value

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        data = _parse(self.InputSerializer, request.data)
        services.application_decline(
            application=application, acting_user=request.user, reasons=data["reasons"]
        )
        return Response(_detail(request, application_id))


class ApplicationAcceptOfferApi(APIView):
    class InputSerializer(serializers.Serializer):
        signature_name = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        _borrower_or_manager(request)
        data = _parse(self.InputSerializer, request.data)
        applicant = application.applicant
        is_borrower = (
            applicant.borrower_id is not None and applicant.borrower.user_id == request.user.pk
        )
        services.offer_accept(
            application=application,
            acting_user=request.user,
            signature_name=data["signature_name"],
            ip_address=_client_ip(request),
            on_behalf=not is_borrower,
        )
        return Response(_detail(request, application_id))


class ApplicationDisburseApi(APIView):
    permission_classes = [has_staff_permission("disburse_loans")]

    class InputSerializer(serializers.Serializer):
        method = serializers.ChoiceField(choices=list(services.DISBURSEMENT_METHODS))
        reference = serializers.CharField(max_length=100)

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        body = request.data if isinstance(request.data, Mapping) else {"body": request.data}
        payload = {"application": application_id, **body}

        def execute() -> tuple[int, Any]:
            data = _parse(self.InputSerializer, request.data)
            services.application_disburse(
                application=application,
                acting_user=request.user,
                method=data["method"],
                reference=data["reference"],
            )
            return 200, _detail(request, application_id)

        return idempotent_response(
            request,
            scope=f"application_disburse:{application_id}",
            payload=payload,
            execute=execute,
        )


class ApplicationDecisionApi(APIView):
    @extend_schema(responses=DecisionOutput)
    def get(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        decision = selectors.application_latest_decision(application)
        if decision is None:
            raise NotFound("This application has no decision yet.")
        return Response(DecisionOutput(decision).data)


class ApplicationOfferApi(APIView):
    @extend_schema(responses=OfferOutput)
    def get(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        offer = selectors.application_offer(application)
        if offer is None:
            raise NotFound("This application has no offer.")
        return Response(OfferOutput(offer).data)


# --- documents ---------------------------------------------------------------------------------


class DocumentOutput(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = [
            "id",
            "application",
            "doc_type",
            "status",
            "review_reason",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "created_at",
            "reviewed_at",
        ]


class ApplicationDocumentsApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        doc_type = serializers.ChoiceField(choices=list(Document.UPLOAD_TYPES))
        file = serializers.FileField(allow_empty_file=True)

    @extend_schema(responses=DocumentOutput(many=True))
    def get(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        documents = selectors.document_list(application=application)
        return Response(DocumentOutput(documents, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: DocumentOutput})
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        _borrower_or_manager(request)
        data = _parse(self.InputSerializer, request.data)
        document = services.document_upload(
            application=application,
            acting_user=request.user,
            doc_type=data["doc_type"],
            file=data["file"],
        )
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)


class ApplicationDocumentsRequestApi(APIView):
    permission_classes = [has_staff_permission("manage_applications")]

    class InputSerializer(serializers.Serializer):
        doc_types = serializers.ListField(
            child=serializers.ChoiceField(choices=list(Document.UPLOAD_TYPES)), min_length=1
        )
        message = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, default=""
        )

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = _owner_or_staff(request, application_id)
        data = _parse(self.InputSerializer, request.data)
        services.application_documents_request(
            application=application, acting_user=request.user, **data
        )
        return Response(_detail(request, application_id))


class DocumentDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, document_id: int) -> FileResponse:
        document = selectors.document_get(user=request.user, document_id=document_id)
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
            document.content_type, "bin"
        )
        response = FileResponse(
            services.document_open(document=document),
            as_attachment=True,
            filename=f"{document.doc_type}-{document.pk}.{extension}",
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class DocumentReviewApi(APIView):
    permission_classes = [has_staff_permission("manage_applications")]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["accepted", "rejected"])
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=DocumentOutput)
    def post(self, request: Request, document_id: int) -> Response:
        document = selectors.document_get(user=request.user, document_id=document_id)
        data = _parse(self.InputSerializer, request.data)
        document = services.document_review(document=document, acting_user=request.user, **data)
        return Response(DocumentOutput(document).data)


# --- rule sets ---------------------------------------------------------------------------------


class RuleSerializer(serializers.ModelSerializer):
    threshold = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")

    class Meta:
        model = Rule
        fields = [
            "order",
            "feature",
            "operator",
            "threshold",
            "outcome",
            "reason_code",
            "reason_text",
        ]
        extra_kwargs = {"order": {"required": False}}


class RuleSetOutput(serializers.ModelSerializer):
    rules = RuleSerializer(many=True)
    product_code = serializers.CharField(source="product.code")

    class Meta:
        model = RuleSet
        fields = [
            "id",
            "product",
            "product_code",
            "version",
            "name",
            "status",
            "created_at",
            "activated_at",
            "rules",
        ]


def _rule_sets_read(user: Any) -> None:
    if not (_has(user, "manage_products") or _has(user, "underwrite_applications")):
        raise PermissionDenied("Rule sets are for staff who manage products or underwrite.")


class RuleSetListCreateApi(APIView):
    class FilterSerializer(serializers.Serializer):
        product = id_field(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        product = id_field()
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        rules = RuleSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=RuleSetOutput(many=True))
    def get(self, request: Request) -> Response:
        _rule_sets_read(request.user)
        filters = _parse(self.FilterSerializer, request.query_params)
        rule_sets = selectors.rule_set_list(product_id=filters["product"])
        return Response(RuleSetOutput(rule_sets, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: RuleSetOutput})
    def post(self, request: Request) -> Response:
        _require(request.user, "manage_products")
        data = _parse(self.InputSerializer, request.data)
        product = LoanProduct.objects.filter(pk=data["product"]).first()
        if product is None:
            raise ValidationFailed.for_fields({"product": ["No such product."]})
        rule_set = services.rule_set_create(
            product=product,
            acting_user=request.user,
            name=data["name"],
            rules=[dict(r) for r in data["rules"]],
        )
        rule_set = selectors.rule_set_get(rule_set_id=rule_set.pk)
        return Response(RuleSetOutput(rule_set).data, status=status.HTTP_201_CREATED)


class RuleSetDetailApi(APIView):
    @extend_schema(responses=RuleSetOutput)
    def get(self, request: Request, rule_set_id: int) -> Response:
        _rule_sets_read(request.user)
        return Response(RuleSetOutput(selectors.rule_set_get(rule_set_id=rule_set_id)).data)


class RuleSetBacktestApi(APIView):
    class InputSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=10_000, default=500)

    class OutputSerializer(serializers.Serializer):
        rule_set_id = serializers.IntegerField()
        compared = serializers.IntegerField()
        approval_rate_before = serializers.DecimalField(max_digits=6, decimal_places=4)
        approval_rate_after = serializers.DecimalField(max_digits=6, decimal_places=4)
        outcomes_before = serializers.DictField(child=serializers.IntegerField())
        outcomes_after = serializers.DictField(child=serializers.IntegerField())
        flips = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request, rule_set_id: int) -> Response:
        _rule_sets_read(request.user)
        rule_set = selectors.rule_set_get(rule_set_id=rule_set_id)
        data = _parse(self.InputSerializer, request.data)
        result = selectors.rule_set_backtest(rule_set=rule_set, limit=data["limit"])
        return Response(self.OutputSerializer(asdict(result)).data)


class RuleSetActivateApi(APIView):
    @extend_schema(request=None, responses=RuleSetOutput)
    def post(self, request: Request, rule_set_id: int) -> Response:
        _require(request.user, "manage_products")
        rule_set = selectors.rule_set_get(rule_set_id=rule_set_id)
        services.rule_set_activate(rule_set=rule_set, acting_user=request.user)
        return Response(RuleSetOutput(selectors.rule_set_get(rule_set_id=rule_set_id)).data)
