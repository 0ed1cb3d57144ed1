"""Origination's pages: the staff application queue and the portal apply flow.

Included at the site root by lendcore.urls."""

from django.urls import path

from .views import portal, portal_invitations, staff, staff_accounts, staff_imports

app_name = "origination"

urlpatterns = [
    # staff
    path(
        "staff/loan-imports/",
        staff_imports.LoanImportListView.as_view(),
        name="staff-loan-imports",
    ),
    path(
        "staff/loan-imports/<id:import_id>/",
        staff_imports.LoanImportDetailView.as_view(),
        name="staff-loan-import",
    ),
    path(
        "staff/applications/",
        staff.ApplicationQueueView.as_view(),
        name="staff-applications",
    ),
    path(
        "staff/applications/<id:application_id>/",
        staff.ApplicationDetailView.as_view(),
        name="staff-application",
    ),
    path(
        "staff/applications/<id:application_id>/reveal-ssn/",
        staff.ApplicantSsnRevealView.as_view(),
        name="staff-reveal-ssn",
    ),
    path(
        "staff/applications/<id:application_id>/approve/",
        staff.ApplicationApproveView.as_view(),
        name="staff-approve",
    ),
    path(
        "staff/applications/<id:application_id>/decline/",
        staff.ApplicationDeclineView.as_view(),
        name="staff-decline",
    ),
    path(
        "staff/applications/<id:application_id>/accept-offer/",
        staff.ApplicationAcceptOnBehalfView.as_view(),
        name="staff-accept-offer",
    ),
    path(
        "staff/applications/<id:application_id>/request-documents/",
        staff.ApplicationRequestDocumentsView.as_view(),
        name="staff-request-documents",
    ),
    path(
        "staff/applications/<id:application_id>/disbursement-account/",
        staff_accounts.ApplicationDisbursementAccountView.as_view(),
        name="staff-disbursement-account",
    ),
    path(
        "staff/applications/<id:application_id>/disburse/",
        staff.ApplicationDisburseView.as_view(),
        name="staff-disburse",
    ),
    path(
        "staff/documents/<id:document_id>/review/",
        staff.DocumentReviewView.as_view(),
        name="staff-document-review",
    ),
    path(
        "staff/documents/<id:document_id>/preview/",
        staff.DocumentPreviewView.as_view(),
        name="staff-document-preview",
    ),
    path("staff/rule-sets/", staff.RuleSetListView.as_view(), name="staff-rule-sets"),
    path(
        "staff/rule-sets/<id:rule_set_id>/",
        staff.RuleSetDetailView.as_view(),
        name="staff-rule-set",
    ),
    path(
        "staff/rule-sets/<id:rule_set_id>/edit/",
        staff.RuleSetEditView.as_view(),
        name="staff-rule-set-edit",
    ),
    path(
        "staff/rule-sets/<id:rule_set_id>/activate/",
        staff.RuleSetActivateView.as_view(),
        name="staff-rule-set-activate",
    ),
    # both: the borrower and staff download through one permission-checked view
    path(
        "documents/<id:document_id>/download/",
        staff.DocumentDownloadView.as_view(),
        name="document-download",
    ),
    # portal
    path("apply/", portal.ApplyHomeView.as_view(), name="portal-apply"),
    path("apply/new/", portal.ApplyTermsView.as_view(), name="portal-apply-new"),
    path("apply/new/quote/", portal.ApplyQuoteView.as_view(), name="portal-apply-quote"),
    path("apply/new/details/", portal.ApplyDetailsView.as_view(), name="portal-apply-details"),
    path("apply/new/review/", portal.ApplyReviewView.as_view(), name="portal-apply-review"),
    path(
        "apply/<id:application_id>/",
        portal.PortalApplicationView.as_view(),
        name="portal-application",
    ),
    path(
        "apply/<id:application_id>/documents/",
        portal.PortalDocumentUploadView.as_view(),
        name="portal-upload",
    ),
    path(
        "apply/<id:application_id>/submit/",
        portal.PortalSubmitView.as_view(),
        name="portal-submit",
    ),
    path(
        "apply/<id:application_id>/offer/",
        portal.PortalOfferView.as_view(),
        name="portal-offer",
    ),
    path(
        "apply/<id:application_id>/disbursement-account/",
        portal_invitations.PortalDisbursementAccountView.as_view(),
        name="portal-disbursement-account",
    ),
    path(
        "apply/invitations/<id:invitation_id>/",
        portal_invitations.InvitationView.as_view(),
        name="portal-invitation",
    ),
    path(
        "apply/invitations/<id:invitation_id>/accept/",
        portal_invitations.InvitationAcceptView.as_view(),
        name="portal-invitation-accept",
    ),
    path(
        "apply/invitations/<id:invitation_id>/decline/",
        portal_invitations.InvitationDeclineView.as_view(),
        name="portal-invitation-decline",
    ),
    path(
        "apply/invitations/t/<str:token>/",
        portal_invitations.InvitationTokenView.as_view(),
        name="portal-invitation-token",
    ),
]
