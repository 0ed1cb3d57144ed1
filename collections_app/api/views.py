"""Collection cases over the API: the list (filters status, bucket, assignee), one case
with its history, and a manager's reassignment. Staff whose role holds work_collections
read; manage_collections reassigns; borrowers see none (403)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from collections_app import selectors
from collections_app.config import MAX_PROMISE_INSTALMENTS
from collections_app.errors import CollectionsValidationError
from collections_app.filters import MAX_ID
from collections_app.models import CollectionCase, Contact, PromiseToPay
from collections_app.services.assignment import case_assign
from collections_app.services.cases import case_external_id_set
from collections_app.services.contacts import NOTES_MAX, contact_log
from collections_app.services.promises import promise_record
from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import (
    StrictCharField,
    StrictIntegerField,
    external_id_field,
    id_field,
    money_field,
)
from lendcore.api.idempotency import IDEMPOTENCY_KEY_REQUIRED, idempotent_response
from lendcore.api.pagination import KeysetPagination
from lendcore.api.views import ApiView, Idempotency, external_id_resolve
from lendcore.core.external_ids import MAX_LENGTH as EXTERNAL_ID_MAX

WORK = has_staff_permission(Action.WORK_COLLECTIONS)
MANAGE = has_staff_permission(Action.MANAGE_COLLECTIONS)


class AssigneeOutput(serializers.Serializer):
    id = StrictIntegerField()
    username = StrictCharField()


class CaseOutput(serializers.Serializer):
    id = StrictIntegerField()
    external_id = StrictCharField(
        allow_null=True, help_text="Your own id for the case, if you gave one."
    )
    loan_id = StrictIntegerField()
    loan_number = StrictCharField(source="loan.loan_number")
    borrower_name = StrictCharField(source="loan.borrower.full_name")
    status = serializers.ChoiceField(choices=CollectionCase.Status.choices)
    opened_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    bucket = StrictCharField()
    dpd = StrictIntegerField(help_text="Days past due at the last close of business")
    amount_past_due = serializers.DecimalField(max_digits=18, decimal_places=2)
    priority = serializers.DecimalField(
        max_digits=24, decimal_places=2, help_text="Amount past due x days past due"
    )
    assignee = AssigneeOutput(allow_null=True)
    outcome = StrictCharField()
    reviewed_on = serializers.DateField(help_text="Last business date close of business updated it")


class CaseEventOutput(serializers.Serializer):
    kind = StrictCharField()
    actor_id = StrictIntegerField(allow_null=True)
    business_date = serializers.DateField()
    at = serializers.DateTimeField()
    details = serializers.DictField(
        source="data",
        help_text="opened: dpd, bucket; assigned/reassigned: from, to; "
        "bucket_changed: from, to, dpd; cured/closed: loan_status",
    )


class CaseDetailOutput(CaseOutput):
    events = CaseEventOutput(many=True)


class CaseAssignInput(serializers.Serializer):
    assignee = id_field(help_text="A user whose role holds work_collections")


CASE_FILTER_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=CollectionCase.Status.values),
    OpenApiParameter("bucket", {"type": "string", "maxLength": 16}, description="Bucket code"),
    OpenApiParameter(
        "assignee",
        {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {"type": "string", "enum": ["me"]},
            ]
        },
        description="A user id, or `me`",
    ),
    OpenApiParameter(
        "external_id",
        {"type": "string", "minLength": 1, "maxLength": EXTERNAL_ID_MAX},
        description="Your own id for the case (exact)",
    ),
    OpenApiParameter(
        "product",
        {"type": "string", "minLength": 1, "maxLength": 64},
        description="The loan's product code",
    ),
]


def _detail(case: CollectionCase) -> dict:
    body = CaseOutput(case).data
    body["events"] = CaseEventOutput(selectors.case_events(case), many=True).data
    return body


class CaseListApi(ApiView):
    """Cases by priority, highest first (then by id), paged by cursor: follow `next` (one
    indexed range scan a page, however deep; `count` on the first page only)."""

    permission_classes = [WORK]
    pagination_class = KeysetPagination

    @extend_schema(parameters=CASE_FILTER_PARAMETERS, responses=CaseOutput(many=True))
    def get(self, request):
        qs = selectors.case_list(user=request.user, filters=request.query_params)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(CaseOutput(page, many=True).data)


class CaseDetailApi(ApiView):
    permission_classes = [WORK]

    @extend_schema(responses=CaseDetailOutput)
    def get(self, request, case_id: int):
        return Response(_detail(selectors.case_get(case_id=case_id)))


class CaseByExternalIdApi(CaseDetailApi):
    """The case you named `external_id` (`PUT /collections/cases/{id}/external-id/`)."""

    @extend_schema(responses=CaseDetailOutput)
    def get(self, request, external_id: str):  # type: ignore[override]
        case_id = external_id_resolve(CollectionCase, request, external_id)
        return super().get(request, case_id=case_id)


class CaseExternalIdApi(ApiView):
    """Names the case with your own id (unique among your cases: 409 `external_id_taken`
    otherwise), or clears it (null). Audited."""

    permission_classes = [WORK]

    class InputSerializer(serializers.Serializer):
        external_id = external_id_field(allow_null=True)

    @extend_schema(request=InputSerializer, responses=CaseDetailOutput)
    def put(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_external_id_set(
            case=case,
            external_id=serializer.validated_data["external_id"],
            acting_user=request.user,
        )
        return Response(_detail(selectors.case_get(case_id=case.pk)))


class CaseAssignApi(ApiView):
    """Give an open case to a collector (409 for a case no longer open)."""

    permission_classes = [MANAGE]

    @extend_schema(request=CaseAssignInput, responses=CaseDetailOutput)
    def post(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)
        serializer = CaseAssignInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_assign(
            case=case,
            assignee_id=serializer.validated_data["assignee"],
            acting_user=request.user,
            on=selectors.today(),
        )
        return Response(_detail(selectors.case_get(case_id=case.pk)))


# --------------------------------------------------------------------------- contacts, promises


class ContactOutput(serializers.Serializer):
    id = StrictIntegerField()
    case_id = StrictIntegerField()
    loan_id = StrictIntegerField()
    channel = serializers.ChoiceField(choices=Contact.Channel.choices)
    direction = serializers.ChoiceField(choices=Contact.Direction.choices)
    outcome = serializers.ChoiceField(choices=Contact.Outcome.choices)
    notes = StrictCharField()
    at = serializers.DateTimeField()
    actor_id = StrictIntegerField(allow_null=True)
    business_date = serializers.DateField()


class PromiseOutput(serializers.Serializer):
    id = StrictIntegerField()
    case_id = StrictIntegerField()
    promise = StrictCharField(source="promise_key", help_text="Shared by its instalments")
    sequence = StrictIntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    due_date = serializers.DateField()
    promised_on = serializers.DateField()
    status = serializers.ChoiceField(choices=PromiseToPay.Status.choices)
    kept_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    settled_on = serializers.DateField(allow_null=True)


REFUSALS = (
    "409 when Regulation F / FDCPA refuses an outbound contact (`extra.rule`: "
    "outside_call_window, call_cap_reached, cease_communication, opted_out) or the case is "
    "not open; nothing is logged."
)


class CaseContactsApi(ApiView):
    """The contacts of the case's loan, newest first; log one (outbound ones must pass
    Regulation F: 08:00-21:00 the borrower's time, at most 7 calls in 7 days, none after a
    cease-communication request or on an opted-out channel)."""

    permission_classes = [WORK]
    idempotency = Idempotency.OWN  # the key is required here (idempotent_response below)

    class Input(serializers.Serializer):
        channel = serializers.ChoiceField(choices=Contact.Channel.choices)
        direction = serializers.ChoiceField(choices=Contact.Direction.choices)
        outcome = serializers.ChoiceField(
            choices=Contact.Outcome.choices,
            help_text="`dispute` opens a dispute on the case (dunning pauses)",
        )
        notes = StrictCharField(allow_blank=True, max_length=NOTES_MAX, default="")
        at = serializers.DateTimeField(
            required=False, help_text="When it happened (with offset); default now"
        )

    @extend_schema(
        responses=inline_serializer("CaseContacts", {"results": ContactOutput(many=True)})
    )
    def get(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)
        return Response({"results": ContactOutput(selectors.case_contacts(case), many=True).data})

    @extend_schema(
        request=Input,
        responses={201: ContactOutput},
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        description=REFUSALS,
    )
    def post(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)

        def execute() -> tuple[int, dict]:
            serializer = self.Input(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            contact = contact_log(
                case=case,
                channel=data["channel"],
                direction=data["direction"],
                outcome=data["outcome"],
                notes=data["notes"],
                at=data.get("at"),
                acting_user=request.user,
                on=selectors.today(),
            )
            return status.HTTP_201_CREATED, dict(ContactOutput(contact).data)

        return idempotent_response(
            request,
            scope=f"collections.contact:{case.pk}",
            payload=request.data,
            execute=_parsed(execute),
        )


class CasePromisesApi(ApiView):
    """The promises to pay of the case's loan; record one of one or several instalments
    (each above zero, none dated before the business date, in date order)."""

    permission_classes = [WORK]
    idempotency = Idempotency.OWN  # the key is required here (idempotent_response below)

    class Instalment(serializers.Serializer):
        amount = money_field(min_value=Decimal("0.01"))
        due_date = serializers.DateField(help_text="Not before the business date")

    @extend_schema(
        responses=inline_serializer("CasePromises", {"results": PromiseOutput(many=True)})
    )
    def get(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)
        return Response({"results": PromiseOutput(selectors.case_promises(case), many=True).data})

    @extend_schema(
        request=inline_serializer(
            "CasePromisesInput",
            {
                "instalments": serializers.ListField(
                    child=Instalment(), min_length=1, max_length=MAX_PROMISE_INSTALMENTS
                )
            },
        ),
        responses={
            201: inline_serializer("PromiseRecorded", {"results": PromiseOutput(many=True)})
        },
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
    )
    def post(self, request, case_id: int):
        case = selectors.case_get(case_id=case_id)

        def execute() -> tuple[int, dict]:
            instalments = _instalments_parse(self.Instalment, request.data)
            promises = promise_record(
                case=case, instalments=instalments, acting_user=request.user, on=selectors.today()
            )
            return status.HTTP_201_CREATED, {"results": PromiseOutput(promises, many=True).data}

        return idempotent_response(
            request,
            scope=f"collections.promise:{case.pk}",
            payload=request.data,
            execute=_parsed(execute),
        )


def _parsed(execute):
    """A DRF ValidationError inside `execute` is the same 400 as the exception handler's,
    with `extra.fields`, and is stored with the key like any other answer."""

    def run() -> tuple[int, dict]:
        try:
            return execute()
        except serializers.ValidationError as error:
            raise CollectionsValidationError.for_fields(_fields(error.detail)) from None

    return run


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {"non_field_errors": [str(m) for m in detail]}


def _instalments_parse(instalment, data) -> list[tuple[Decimal, date]]:
    """`{"instalments": [{"amount", "due_date"}, ...]}`: errors name `instalments[i].field`."""
    if not isinstance(data, dict) or not isinstance(data.get("instalments"), list):
        raise CollectionsValidationError.field("instalments", "A list of {amount, due_date}.")
    items = data["instalments"]
    if not 1 <= len(items) <= MAX_PROMISE_INSTALMENTS:
        raise CollectionsValidationError.field(
            "instalments", f"From 1 to {MAX_PROMISE_INSTALMENTS} instalments."
        )
    parsed: list[tuple[Decimal, date]] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"instalments[{index}]"] = ["An object {amount, due_date}."]
            continue
        serializer = instalment(data=item)
        if not serializer.is_valid():
            for name, messages in serializer.errors.items():
                errors[f"instalments[{index}].{name}"] = [str(m) for m in messages]
            continue
        parsed.append((serializer.validated_data["amount"], serializer.validated_data["due_date"]))
    if errors:
        raise CollectionsValidationError.for_fields(errors)
    return parsed
