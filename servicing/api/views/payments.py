"""Payments: list and post (staff) or request through the rail (borrowers), pending
payments, cancel, reverse."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from lendcore.accounts.permissions import CanReadLoans, TokenAuthentication, has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_is_staff_member
from lendcore.api.fields import StrictCharField, StrictIntegerField, external_id_field, money_field
from lendcore.api.idempotency import (
    IDEMPOTENCY_KEY_OPTIONAL,
    IDEMPOTENCY_KEY_REQUIRED,
    idempotent_response,
    idempotent_response_atomic,
)
from lendcore.api.pagination import BoundedLimitOffsetPagination
from lendcore.api.query import query_params_strict
from lendcore.api.views import ApiView, Idempotency, external_id_resolve
from lendcore.core.external_ids import MAX_LENGTH as EXTERNAL_ID_MAX
from lendcore.finance.money import CENT
from servicing import rail_payment_reads, rail_payments, selectors, services
from servicing.errors import ServicingValidationError
from servicing.models import BORROWER_METHODS, Loan, Payment, RailTransfer

from .common import (
    PaymentOutput,
    money_out,
    parse_input,
    render,
    require_staff,
)


@extend_schema_serializer(component_name="PendingPayment")
class PaymentRequestOutput(serializers.Serializer):
    """A borrower's one-time payment through the payment rail: `requested` until close of
    business sends it (cancellable until then), `pending` until it settles, then `settled`
    (posted as `payment_id`), or `returned` (NSF: nothing posted, the NSF fee charged),
    `failed` (settled but not postable: staff refund it) or `cancelled`."""

    id = StrictIntegerField()
    loan_id = StrictIntegerField()
    amount = money_out()
    method = serializers.ChoiceField(choices=[(m.value, m.label) for m in BORROWER_METHODS])
    status = serializers.ChoiceField(choices=RailTransfer.Status.choices)
    account_last4 = StrictCharField(help_text="The last four digits of the account or card.")
    requested_on = serializers.DateField(help_text="The business date it was asked for on.")
    expected_settlement_date = serializers.DateField(
        allow_null=True,
        help_text="The close of business it settles at (once sent, the rail's date); null "
        "when cancelled, or failed before it was sent.",
    )
    cancellable = serializers.BooleanField(help_text="True while not sent yet (`requested`).")
    payment_id = StrictIntegerField(
        allow_null=True, help_text="The posted payment, once settled; else null."
    )
    return_code = StrictCharField(help_text='The rail\'s return code ("R01"), or "".')


def _payment_request_body(transfer: RailTransfer, *, today: date) -> dict[str, Any]:
    row = rail_payment_reads.payment_request_rows([transfer], today=today)[0]
    return dict(PaymentRequestOutput(row).data)


def _fingerprint_payload(data: Any) -> Any:
    """The request body as the idempotency fingerprint keeps it: an account number only as
    a keyed hash."""
    if not isinstance(data, dict) and hasattr(data, "dict"):
        data = data.dict()  # a form-encoded QueryDict
    if isinstance(data, dict) and data.get("account_number"):
        return {**data, "account_number": rail_payments.account_fingerprint(data["account_number"])}
    return data


class PaymentCreateApi(ApiView):
    """Staff post a payment received (201, the posted payment). A borrower asks for a
    one-time debit of their bank account or debit card through the payment rail (202, the
    pending payment): close of business sends it and posts it once it settles."""

    idempotency = Idempotency.OWN

    permission_classes = [CanReadLoans]

    # the settings' classes, in their order, with the one-query token lookup
    authentication_classes = [SessionAuthentication, TokenAuthentication]

    @extend_schema_serializer(component_name="PaymentCreateInput")
    class Input(serializers.Serializer):
        amount = money_field(
            min_value=CENT,
            help_text="Borrowers: at most today's payoff, less their payments not settled yet.",
        )
        effective_date = serializers.DateField(
            required=False,
            help_text="Defaults to the business date. Staff may backdate within the window; "
            "a borrower's payment is dated the business date (any other date is refused).",
        )
        method = serializers.ChoiceField(
            choices=Payment.Method.choices,
            help_text="Staff: any method. Borrowers: ach (bank account) or debit_card only, "
            "debited through the payment rail; cash, check and wire are refused.",
        )
        reference = StrictCharField(
            max_length=128,
            required=False,
            allow_blank=True,
            help_text="Staff only (a borrower's payment is referenced RAIL-<id>; ignored).",
        )
        allow_credit = serializers.BooleanField(
            default=False,
            help_text="Staff only: post an amount above today's payoff, the rest held as the "
            "borrower's refundable credit balance (refused without it). Borrowers: false.",
        )
        account_number = StrictCharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=40,
            help_text="Borrowers: required. ach: the bank account number, 4 to 17 digits; "
            "debit_card: the card number, 13 to 19 digits (spaces and dashes ignored). Stored "
            "encrypted, shown as its last four digits. Staff: not used.",
        )
        routing_number = StrictCharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=40,
            help_text="Borrowers paying by ach: required, the bank's 9-digit routing number; "
            "its ABA check digit must match (400 naming the field otherwise). Otherwise not used.",
        )
        external_id = external_id_field(
            required=False,
            allow_null=True,
            default=None,
            help_text="Staff only: your own id for the payment, unique among yours (409 "
            "`external_id_taken` otherwise); up to 100 letters, digits, '.', '_', ':' or '-'. "
            "Borrowers: not accepted.",
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "external_id",
                {"type": "string", "minLength": 1, "maxLength": EXTERNAL_ID_MAX},
                description="Your own id for the payment (exact)",
            )
        ],
        responses=inline_serializer("LoanPayments", {"results": PaymentOutput(many=True)}),
    )
    def get(self, request, loan_id: int):
        filters = parse_input(PaymentFilterInput, query_params_strict(request))
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        payments = selectors.loan_payments(loan=loan, external_id=filters.get("external_id"))
        return Response({"results": PaymentOutput(payments, many=True).data})

    @extend_schema(
        request=Input,
        responses={201: PaymentOutput, 202: PaymentRequestOutput},
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
    )
    def post(self, request, loan_id: int):
        user = request.user
        staff = user_is_staff_member(user)
        if staff:
            require_staff(user, Action.POST_PAYMENT)
            # no query: payment_post's lock reads the loan, 404 when there is none (the
            # idempotency layer stores no 404)
            loan = selectors.loan_ref_for_write(user=user, loan_id=loan_id)
        else:
            loan = selectors.loan_get_for_write(user=user, loan_id=loan_id)
        execute = self._staff_post if staff else self._borrower_request
        return idempotent_response_atomic(
            request,
            scope=f"servicing.payment:{loan.pk}",
            payload=_fingerprint_payload(request.data),
            execute=lambda claim: execute(claim, loan),
        )

    def _staff_post(self, claim, loan: Loan) -> None:
        data = parse_input(self.Input, self.request.data)
        services.payment_post(
            external_id=data["external_id"],
            loan=loan,
            amount=data["amount"],
            effective_date=data.get("effective_date"),  # None: the business date
            method=data["method"],
            reference=data.get("reference", ""),
            acting_user=self.request.user,
            allow_credit=data["allow_credit"],
            # the answer commits with the payment (one transaction, see payment_post)
            on_posted=lambda payment: claim.record(
                status.HTTP_201_CREATED, render(PaymentOutput, payment)
            ),
        )

    def _borrower_request(self, claim, loan: Loan) -> None:
        data = parse_input(self.Input, self.request.data)
        if data["allow_credit"]:
            raise ServicingValidationError.field(
                "allow_credit", "Staff only: a borrower pays at most today's payoff."
            )
        if data["external_id"] is not None:
            raise ServicingValidationError.field(
                "external_id", "Staff only: a borrower's payment takes no external id."
            )
        rail_payments.payment_request_create(
            loan=loan,
            amount=data["amount"],
            method=data["method"],
            account_number=data.get("account_number", ""),
            routing_number=data.get("routing_number", ""),
            acting_user=self.request.user,
            business_date=data.get("effective_date"),
            # the answer commits with the request
            on_created=lambda transfer: claim.record(
                status.HTTP_202_ACCEPTED,
                _payment_request_body(transfer, today=transfer.business_date),
            ),
        )


class PaymentFilterInput(serializers.Serializer):
    """The payments list's filters (a bad value: 400 naming it)."""

    external_id = StrictCharField(required=False, max_length=EXTERNAL_ID_MAX, trim_whitespace=False)


class PaymentByExternalIdApi(ApiView):
    """The payment you named `external_id` (`POST /loans/{id}/payments/` with
    `external_id`), as the payments list shows it; 404 unless you may see its loan."""

    permission_classes = [CanReadLoans]

    @extend_schema(responses=PaymentOutput)
    def get(self, request, external_id: str):
        payment_id = external_id_resolve(Payment, request, external_id)
        payment = selectors.payment_get_visible(user=request.user, payment_id=payment_id)
        return Response(render(PaymentOutput, payment))


class LoanPaymentRequestsApi(ApiView):
    """The loan's one-time payments through the rail (any status), newest first."""

    permission_classes = [CanReadLoans]

    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(responses=PaymentRequestOutput(many=True))
    def get(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            rail_payment_reads.loan_payment_requests(loan=loan), request, view=self
        )
        rows = rail_payment_reads.payment_request_rows(
            page or [], today=selectors.business_date_get()
        )
        return paginator.get_paginated_response(PaymentRequestOutput(rows, many=True).data)


class PaymentRequestCancelApi(ApiView):
    """Cancel a one-time payment not sent yet (the loan's borrower, or staff with
    service_loans); 409 once close of business sent it."""

    idempotency = Idempotency.OWN

    permission_classes = [CanReadLoans]

    @extend_schema(
        request=None,
        responses=PaymentRequestOutput,
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
    )
    def post(self, request, transfer_id: int):
        transfer = rail_payment_reads.payment_request_get_visible(
            user=request.user, transfer_id=transfer_id
        )

        def execute():
            cancelled = rail_payments.payment_request_cancel(
                transfer=transfer, acting_user=request.user
            )
            body = _payment_request_body(cancelled, today=selectors.business_date_get())
            return status.HTTP_200_OK, body

        return idempotent_response(
            request,
            scope=f"servicing.payment_request_cancel:{transfer.pk}",
            payload=request.data,
            execute=execute,
            required=False,
        )


class PaymentReverseApi(ApiView):
    idempotency = Idempotency.OWN

    permission_classes = [has_staff_permission(Action.REVERSE_PAYMENT)]

    @extend_schema_serializer(component_name="PaymentReverseInput")
    class Input(serializers.Serializer):
        reason = StrictCharField(max_length=255)
        nsf = serializers.BooleanField(default=False)

    @extend_schema(request=Input, responses=PaymentOutput, parameters=[IDEMPOTENCY_KEY_OPTIONAL])
    def post(self, request, payment_id: int):
        payment = selectors.payment_get_visible(user=request.user, payment_id=payment_id)

        def execute():
            data = parse_input(self.Input, request.data)
            reversed_payment = services.payment_reverse(
                payment=payment, reason=data["reason"], nsf=data["nsf"], acting_user=request.user
            )
            return status.HTTP_200_OK, PaymentOutput(reversed_payment).data

        return idempotent_response(
            request,
            scope=f"servicing.reverse:{payment.pk}",
            payload=request.data,
            execute=execute,
            required=False,
        )
