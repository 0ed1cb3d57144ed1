"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

from django.urls import path

from .views import (
    autopay,
    business_date,
    charge_off,
    cob,
    fees,
    gl,
    loan_tape,
    loans,
    modifications,
    payments,
    payoff,
    statements,
)

urlpatterns: list = [
    path("business-date/", business_date.BusinessDateApi.as_view(), name="business-date"),
    path("loans/", loans.LoanListApi.as_view(), name="loan-list"),
    path("loans/<id:loan_id>/", loans.LoanDetailApi.as_view(), name="loan-detail"),
    path(
        "loans/external-id/<extid:external_id>/",
        loans.LoanByExternalIdApi.as_view(),
        name="loan-by-external-id",
    ),
    path(
        "loans/<id:loan_id>/external-id/",
        loans.LoanExternalIdApi.as_view(),
        name="loan-external-id",
    ),
    path("loans/<id:loan_id>/schedule/", loans.LoanScheduleApi.as_view(), name="loan-schedule"),
    path(
        "loans/<id:loan_id>/transactions/",
        loans.LoanTransactionsApi.as_view(),
        name="loan-transactions",
    ),
    path("loans/<id:loan_id>/journal/", loans.LoanJournalApi.as_view(), name="loan-journal"),
    path("loans/<id:loan_id>/payments/", payments.PaymentCreateApi.as_view(), name="loan-payments"),
    path("loans/<id:loan_id>/autopay/", autopay.LoanAutopayApi.as_view(), name="loan-autopay"),
    path(
        "loans/<id:loan_id>/pending-payments/",
        payments.LoanPaymentRequestsApi.as_view(),
        name="loan-pending-payments",
    ),
    path(
        "pending-payments/<id:transfer_id>/cancel/",
        payments.PaymentRequestCancelApi.as_view(),
        name="pending-payment-cancel",
    ),
    path(
        "payments/external-id/<extid:external_id>/",
        payments.PaymentByExternalIdApi.as_view(),
        name="payment-by-external-id",
    ),
    path(
        "payments/<id:payment_id>/reverse/",
        payments.PaymentReverseApi.as_view(),
        name="payment-reverse",
    ),
    path(
        "loans/<id:loan_id>/payoff-quote/",
        payoff.PayoffQuoteApi.as_view(),
        name="loan-payoff-quote",
    ),
    path("loans/<id:loan_id>/fees/", fees.LoanFeesApi.as_view(), name="loan-fees"),
    path("fees/<id:fee_id>/waive/", fees.FeeWaiveApi.as_view(), name="fee-waive"),
    path(
        "loans/<id:loan_id>/modifications/",
        modifications.ModificationRequestApi.as_view(),
        name="loan-modifications",
    ),
    path(
        "loans/<id:loan_id>/modifications/<id:modification_id>/approve/",
        modifications.ModificationApproveApi.as_view(),
        name="loan-modification-approve",
    ),
    path(
        "loans/<id:loan_id>/modifications/<id:modification_id>/reject/",
        modifications.ModificationRejectApi.as_view(),
        name="loan-modification-reject",
    ),
    path(
        "loans/<id:loan_id>/charge-off/request/",
        charge_off.ChargeOffRequestApi.as_view(),
        name="loan-charge-off-request",
    ),
    path(
        "loans/<id:loan_id>/charge-off/approve/",
        charge_off.ChargeOffApproveApi.as_view(),
        name="loan-charge-off-approve",
    ),
    path(
        "loans/<id:loan_id>/charge-off/reject/",
        charge_off.ChargeOffRejectApi.as_view(),
        name="loan-charge-off-reject",
    ),
    path(
        "loans/<id:loan_id>/charge-off/undo/",
        charge_off.ChargeOffUndoApi.as_view(),
        name="loan-charge-off-undo",
    ),
    path(
        "loans/<id:loan_id>/statements/",
        statements.LoanStatementsApi.as_view(),
        name="loan-statements",
    ),
    path(
        "statements/<id:statement_id>/download/",
        statements.StatementDownloadApi.as_view(),
        name="statement-download",
    ),
    path("gl/export/", gl.GlExportApi.as_view(), name="gl-export"),
    path("loan-tape/", loan_tape.LoanTapeApi.as_view(), name="loan-tape"),
    # close of business
    path("cob-runs/", cob.CobRunListCreateApi.as_view(), name="cob-run-list"),
    path("cob-runs/<id:run_id>/", cob.CobRunDetailApi.as_view(), name="cob-run-detail"),
]
