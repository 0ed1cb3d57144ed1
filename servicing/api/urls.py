"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

from django.urls import path

from . import cob, views

urlpatterns: list = [
    path("business-date/", views.BusinessDateApi.as_view(), name="business-date"),
    path("loans/", views.LoanListApi.as_view(), name="loan-list"),
    path("loans/<id:loan_id>/", views.LoanDetailApi.as_view(), name="loan-detail"),
    path("loans/<id:loan_id>/schedule/", views.LoanScheduleApi.as_view(), name="loan-schedule"),
    path(
        "loans/<id:loan_id>/transactions/",
        views.LoanTransactionsApi.as_view(),
        name="loan-transactions",
    ),
    path("loans/<id:loan_id>/journal/", views.LoanJournalApi.as_view(), name="loan-journal"),
    path("loans/<id:loan_id>/payments/", views.PaymentCreateApi.as_view(), name="loan-payments"),
    path(
        "loans/<id:loan_id>/pending-payments/",
        views.LoanPaymentRequestsApi.as_view(),
        name="loan-pending-payments",
    ),
    path(
        "pending-payments/<id:transfer_id>/cancel/",
        views.PaymentRequestCancelApi.as_view(),
        name="pending-payment-cancel",
    ),
    path(
        "payments/<id:payment_id>/reverse/",
        views.PaymentReverseApi.as_view(),
        name="payment-reverse",
    ),
    path(
        "loans/<id:loan_id>/payoff-quote/",
        views.PayoffQuoteApi.as_view(),
        name="loan-payoff-quote",
    ),
    path("loans/<id:loan_id>/fees/", views.LoanFeesApi.as_view(), name="loan-fees"),
    path("fees/<id:fee_id>/waive/", views.FeeWaiveApi.as_view(), name="fee-waive"),
    path("loans/<id:loan_id>/modify/", views.LoanModifyApi.as_view(), name="loan-modify"),
    path(
        "loans/<id:loan_id>/charge-off/",
        views.LoanChargeOffApi.as_view(),
        name="loan-charge-off",
    ),
    path(
        "loans/<id:loan_id>/statements/",
        views.LoanStatementsApi.as_view(),
        name="loan-statements",
    ),
    path(
        "statements/<id:statement_id>/download/",
        views.StatementDownloadApi.as_view(),
        name="statement-download",
    ),
    path("gl/export/", views.GlExportApi.as_view(), name="gl-export"),
    # close of business
    path("cob-runs/", cob.CobRunListCreateApi.as_view(), name="cob-run-list"),
    path("cob-runs/<id:run_id>/", cob.CobRunDetailApi.as_view(), name="cob-run-detail"),
]
