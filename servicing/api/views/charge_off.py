"""Charge-off, one endpoint per operation: request (202), approve or reject the open
request (a second person with approve_charge_off: four eyes), undo an approved one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.views import ApiView
from servicing import selectors, services
from servicing.models import ChargeOff, Loan

from .common import money_out, parse_input

APPROVER = has_staff_permission(Action.APPROVE_CHARGE_OFF)


@extend_schema_serializer(component_name="ChargeOffInput")
class ChargeOffInput(serializers.Serializer):
    reason = StrictCharField(max_length=255)


@extend_schema_serializer(component_name="ChargeOff")
class ChargeOffOutput(serializers.Serializer):
    id = StrictIntegerField()
    status = StrictCharField()
    loan_status = StrictCharField()
    principal = money_out()
    interest = money_out()
    fees = money_out()


def _response(charge_off: ChargeOff, loan: Loan, code: int) -> Response:
    loan.refresh_from_db()
    return Response(
        {
            "id": charge_off.pk,
            "status": charge_off.status,
            "loan_status": loan.status,
            "principal": str(charge_off.principal),
            "interest": str(charge_off.interest),
            "fees": str(charge_off.fees),
        },
        status=code,
    )


@extend_schema(request=ChargeOffInput, responses={202: ChargeOffOutput})
class ChargeOffRequestApi(ApiView):
    """Ask for the loan to be charged off; another person approves it."""

    permission_classes = [has_staff_permission(Action.CHARGE_OFF)]

    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(ChargeOffInput, request.data)
        charge_off = services.charge_off_request(
            loan=loan, reason=data["reason"], acting_user=request.user
        )
        return _response(charge_off, loan, status.HTTP_202_ACCEPTED)


class _ChargeOffDecideApi(ApiView):
    permission_classes = [APPROVER]
    approve: bool

    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(ChargeOffInput, request.data)
        charge_off = services.charge_off_decide(
            loan=loan, approve=self.approve, reason=data["reason"], acting_user=request.user
        )
        return _response(charge_off, loan, status.HTTP_200_OK)


@extend_schema(request=ChargeOffInput, responses=ChargeOffOutput)
class ChargeOffApproveApi(_ChargeOffDecideApi):
    """Write the remaining balance off: the loan becomes charged_off."""

    approve = True


@extend_schema(request=ChargeOffInput, responses=ChargeOffOutput)
class ChargeOffRejectApi(_ChargeOffDecideApi):
    """Reject the open request: the loan stays active."""

    approve = False


@extend_schema(request=ChargeOffInput, responses=ChargeOffOutput)
class ChargeOffUndoApi(ApiView):
    """Reverse an approved charge-off (refused while recoveries stand)."""

    permission_classes = [APPROVER]

    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(ChargeOffInput, request.data)
        charge_off = services.charge_off_undo(
            loan=loan, reason=data["reason"], acting_user=request.user
        )
        return _response(charge_off, loan, status.HTTP_200_OK)
