"""Documents: list and upload, request, download, review."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from lendcore.accounts.permissions import borrower_or_staff, has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField
from lendcore.api.views import ApiView
from origination import selectors, services
from origination.api.views._common import borrower_or_manager, owner_or_staff, parse
from origination.api.views.applications import ApplicationDetailOutput, application_detail_data
from origination.models import Document


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


class ApplicationDocumentsApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS)]
    parser_classes = [MultiPartParser]  # a file needs multipart; nothing else carries one

    class InputSerializer(serializers.Serializer):
        doc_type = serializers.ChoiceField(choices=list(Document.UPLOAD_TYPES))
        file = serializers.FileField(allow_empty_file=True)

    @extend_schema(responses=DocumentOutput(many=True))
    def get(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        documents = selectors.document_list(application=application)
        return Response(DocumentOutput(documents, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: DocumentOutput})
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        borrower_or_manager(request)
        data = parse(self.InputSerializer, request.data)
        document = services.document_upload(
            application=application,
            acting_user=request.user,
            doc_type=data["doc_type"],
            file=data["file"],
        )
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)


class ApplicationDocumentsRequestApi(ApiView):
    permission_classes = [has_staff_permission("manage_applications")]

    class InputSerializer(serializers.Serializer):
        doc_types = serializers.ListField(
            child=serializers.ChoiceField(choices=list(Document.UPLOAD_TYPES)), min_length=1
        )
        message = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=ApplicationDetailOutput)
    def post(self, request: Request, application_id: int) -> Response:
        application = owner_or_staff(request, application_id)
        data = parse(self.InputSerializer, request.data)
        services.application_documents_request(
            application=application, acting_user=request.user, **data
        )
        return Response(application_detail_data(request, application_id))


class DocumentDownloadApi(ApiView):
    permission_classes = [borrower_or_staff(Action.WORK_APPLICATIONS, Action.READ_LOAN)]

    @extend_schema(
        responses={
            # the type sniffed from the content at upload (never the uploader's claim)
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
        }
    )
    def get(self, request: Request, document_id: int) -> FileResponse:
        document = selectors.document_get(user=request.user, document_id=document_id)
        response = FileResponse(
            services.document_open(document=document, acting_user=request.user),
            as_attachment=True,
            filename=document.download_name(),
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class DocumentReviewApi(ApiView):
    permission_classes = [has_staff_permission("manage_applications")]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["accepted", "rejected"])
        reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=DocumentOutput)
    def post(self, request: Request, document_id: int) -> Response:
        document = selectors.document_get(user=request.user, document_id=document_id)
        data = parse(self.InputSerializer, request.data)
        document = services.document_review(document=document, acting_user=request.user, **data)
        return Response(DocumentOutput(document).data)
