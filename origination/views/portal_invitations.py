"""The borrower's side of staff-made applications: invitations to accept or decline, and the
account the loan is paid out to.

A borrower sees only their own invitations (others answer 404). Accepting links the
applicant (and its applications) to the borrower; nothing goes ahead before that."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from lendcore.errors import ApplicationError, NotFound
from origination import selectors, services
from origination.forms import DisbursementAccountForm, add_service_error

from .common import error_status
from .portal import BorrowerRequiredMixin, PortalOfferView, _own_application


def _own_invitation(borrower, invitation_id: int):
    try:
        return selectors.borrower_invitation_get(borrower=borrower, invitation_id=invitation_id)
    except NotFound as error:
        raise Http404(error.message) from error


class InvitationView(BorrowerRequiredMixin, View):
    template = "portal/apply/invitation.html"

    def get(self, request: HttpRequest, invitation_id: int) -> HttpResponse:
        invitation = _own_invitation(self.borrower, invitation_id)
        return self._render(request, invitation)

    def _render(self, request, invitation, error: str = "", status: int = 200) -> HttpResponse:
        applications = invitation.applicant.applications.select_related("product").order_by("pk")
        return render(
            request,
            self.template,
            {
                "invitation": invitation,
                "applicant": invitation.applicant,
                "applications": applications,
                "error": error,
            },
            status=status,
        )


class InvitationTokenView(BorrowerRequiredMixin, View):
    """The e-mail's link: the signed-in borrower's invitation with that token, else 404."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = selectors.borrower_invitation_by_token(borrower=self.borrower, token=token)
        except NotFound as error:
            raise Http404(error.message) from error
        return redirect("origination:portal-invitation", invitation_id=invitation.pk)


class _InvitationDecisionView(InvitationView):
    verb = ""

    def decide(self, request: HttpRequest, invitation) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, invitation_id: int) -> HttpResponse:
        invitation = _own_invitation(self.borrower, invitation_id)
        try:
            self.decide(request, invitation)
        except ApplicationError as error:
            invitation.refresh_from_db()
            return self._render(request, invitation, error.message, error_status(error))
        messages.success(request, f"You {self.verb} the invitation.")
        return redirect("origination:portal-apply")


class InvitationAcceptView(_InvitationDecisionView):
    verb = "accepted"

    def decide(self, request: HttpRequest, invitation) -> None:
        services.borrower_invitation_accept(invitation=invitation, acting_user=request.user)


class InvitationDeclineView(_InvitationDecisionView):
    verb = "declined"

    def decide(self, request: HttpRequest, invitation) -> None:
        services.borrower_invitation_decline(invitation=invitation, acting_user=request.user)


class PortalDisbursementAccountView(BorrowerRequiredMixin, View):
    """Change the account the loan is paid to; after acceptance the offer reopens and the
    borrower signs again."""

    def post(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = _own_application(request, application_id)
        form = DisbursementAccountForm(request.POST)
        offer_page = PortalOfferView()
        if not form.is_valid():
            return offer_page.render_page(request, application, account_form=form, status=400)
        accepted_before = application.status == application.Status.OFFER_ACCEPTED
        try:
            updated = services.application_disbursement_account_set(
                application=application,
                account=form.cleaned_data["account"],
                acting_user=request.user,
            )
        except ApplicationError as error:
            add_service_error(form, error, aliases={"disbursement_account": "account"})
            application = _own_application(request, application_id)
            return offer_page.render_page(
                request, application, account_form=form, status=error_status(error)
            )
        if accepted_before and updated.status == updated.Status.APPROVED:
            messages.info(request, "Account changed. Accept the offer again for the new account.")
        else:
            messages.success(request, "Account saved.")
        return redirect("origination:portal-offer", application_id=application.pk)
