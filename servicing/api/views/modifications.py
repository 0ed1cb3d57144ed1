"""Loan modifications, one endpoint per operation: request one (applied at once under the
approval limit, else pending), approve or reject a pending one (someone else with
approve_modifications: the service checks the four eyes)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from lendcore.accounts.permissions import has_staff_permission
from lendcore.accounts.roles import Action
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.views import ApiView
from servicing import selectors, services
from servicing.models import Modification

from .common import parse_input


@extend_schema_serializer(component_name="Modification")
class ModificationOutput(serializers.Serializer):
    id = StrictIntegerField(source="pk")
    status = StrictCharField()
    schedule_version = StrictIntegerField(source="to_schedule.version", allow_null=True)


def _body(modification: Modification) -> dict:
    return {
        "id": modification.pk,
        "status": modification.status,
        "schedule_version": modification.to_schedule.version
        if modification.to_schedule is not None
        else None,
    }


class ModificationRequestApi(ApiView):
    """201 with the new schedule version when applied at once; 202 when it waits for a
    second person's approval (above the approval limit, or beyond the requester's role
    limits: `SERVICING_MODIFICATION_LIMITS`)."""

    permission_classes = [has_staff_permission(Action.MODIFY_LOAN)]

    @extend_schema_serializer(component_name="ModificationRequestInput")
    class Input(serializers.Serializer):
        annual_rate_pct = serializers.DecimalField(
            max_digits=9, decimal_places=4, required=False, allow_null=True
        )
        remaining_term = StrictIntegerField(required=False, allow_null=True)
        due_day = StrictIntegerField(required=False, allow_null=True)
        defer_installments = StrictIntegerField(required=False, default=0)
        reason = StrictCharField(max_length=255)

    @extend_schema(request=Input, responses={201: ModificationOutput, 202: ModificationOutput})
    def post(self, request, loan_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        data = parse_input(self.Input, request.data)
        modification = services.loan_modify(
            loan=loan,
            annual_rate_pct=data.get("annual_rate_pct"),
            remaining_term=data.get("remaining_term"),
            due_day=data.get("due_day"),
            defer_installments=data.get("defer_installments") or 0,
            reason=data["reason"],
            acting_user=request.user,
        )
        applied = modification.status == Modification.Status.APPLIED
        code = status.HTTP_201_CREATED if applied else status.HTTP_202_ACCEPTED
        return Response(_body(modification), status=code)


@extend_schema_serializer(component_name="ModificationDecideInput")
class ModificationDecideInput(serializers.Serializer):
    reason = StrictCharField(max_length=255)


class _ModificationDecideApi(ApiView):
    permission_classes = [has_staff_permission(Action.APPROVE_MODIFICATION)]
    approve: bool

    def post(self, request, loan_id: int, modification_id: int):
        loan = selectors.loan_get_visible(user=request.user, loan_id=loan_id)
        modification = selectors.modification_get(loan=loan, modification_id=modification_id)
        data = parse_input(ModificationDecideInput, request.data)
        modification = services.modification_decide(
            loan=loan,
            modification_id=modification.pk,
            approve=self.approve,
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(_body(modification), status=status.HTTP_200_OK)


@extend_schema(request=ModificationDecideInput, responses=ModificationOutput)
class ModificationApproveApi(_ModificationDecideApi):
    """Apply a pending modification (a new schedule version)."""

    approve = True


@extend_schema(request=ModificationDecideInput, responses=ModificationOutput)
class ModificationRejectApi(_ModificationDecideApi):
    """Reject a pending modification (the schedule stays)."""

    approve = False
