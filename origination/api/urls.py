"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

from django.urls import path

from . import views

urlpatterns = [
    path("loan-imports/", views.LoanImportListCreateApi.as_view(), name="loan-imports"),
    path(
        "loan-imports/<id:import_id>/",
        views.LoanImportDetailApi.as_view(),
        name="loan-import-detail",
    ),
    path(
        "loan-imports/<id:import_id>/retry/",
        views.LoanImportRetryApi.as_view(),
        name="loan-import-retry",
    ),
    path("products/", views.ProductListCreateApi.as_view(), name="products"),
    path("products/<id:product_id>/", views.ProductDetailApi.as_view(), name="product-detail"),
    path("applicants/", views.ApplicantCreateApi.as_view(), name="applicants"),
    path(
        "applicants/external-id/<extid:external_id>/",
        views.ApplicantByExternalIdApi.as_view(),
        name="applicant-by-external-id",
    ),
    path(
        "applicants/<id:applicant_id>/",
        views.ApplicantDetailApi.as_view(),
        name="applicant-detail",
    ),
    path(
        "applicants/<id:applicant_id>/reveal-ssn/",
        views.ApplicantSsnRevealApi.as_view(),
        name="applicant-reveal-ssn",
    ),
    path("applications/", views.ApplicationListCreateApi.as_view(), name="applications"),
    path(
        "applications/external-id/<extid:external_id>/",
        views.ApplicationByExternalIdApi.as_view(),
        name="application-by-external-id",
    ),
    path(
        "applications/<id:application_id>/",
        views.ApplicationDetailApi.as_view(),
        name="application-detail",
    ),
    path(
        "applications/<id:application_id>/events/",
        views.ApplicationEventsApi.as_view(),
        name="application-events",
    ),
    path(
        "applications/<id:application_id>/documents/",
        views.ApplicationDocumentsApi.as_view(),
        name="application-documents",
    ),
    path(
        "applications/<id:application_id>/request-documents/",
        views.ApplicationDocumentsRequestApi.as_view(),
        name="application-request-documents",
    ),
    path(
        "applications/<id:application_id>/submit/",
        views.ApplicationSubmitApi.as_view(),
        name="application-submit",
    ),
    path(
        "applications/<id:application_id>/approve/",
        views.ApplicationApproveApi.as_view(),
        name="application-approve",
    ),
    path(
        "applications/<id:application_id>/decline/",
        views.ApplicationDeclineApi.as_view(),
        name="application-decline",
    ),
    path(
        "applications/<id:application_id>/withdraw/",
        views.ApplicationWithdrawApi.as_view(),
        name="application-withdraw",
    ),
    path(
        "applications/<id:application_id>/accept-offer/",
        views.ApplicationAcceptOfferApi.as_view(),
        name="application-accept-offer",
    ),
    path(
        "applications/<id:application_id>/disbursement-account/",
        views.ApplicationDisbursementAccountApi.as_view(),
        name="application-disbursement-account",
    ),
    path(
        "applications/<id:application_id>/disburse/",
        views.ApplicationDisburseApi.as_view(),
        name="application-disburse",
    ),
    path(
        "applications/<id:application_id>/decision/",
        views.ApplicationDecisionApi.as_view(),
        name="application-decision",
    ),
    path(
        "applications/<id:application_id>/offer/",
        views.ApplicationOfferApi.as_view(),
        name="application-offer",
    ),
    path(
        "documents/<id:document_id>/download/",
        views.DocumentDownloadApi.as_view(),
        name="document-download",
    ),
    path(
        "documents/<id:document_id>/review/",
        views.DocumentReviewApi.as_view(),
        name="document-review",
    ),
    path("rule-sets/", views.RuleSetListCreateApi.as_view(), name="rule-sets"),
    path("rule-sets/<id:rule_set_id>/", views.RuleSetDetailApi.as_view(), name="rule-set-detail"),
    path(
        "rule-sets/<id:rule_set_id>/backtest/",
        views.RuleSetBacktestApi.as_view(),
        name="rule-set-backtest",
    ),
    path(
        "rule-sets/<id:rule_set_id>/activate/",
        views.RuleSetActivateApi.as_view(),
        name="rule-set-activate",
    ),
]
