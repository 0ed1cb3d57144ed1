"""Servicing's pages: the staff loan desk and the portal's "My loans".

Included at the site root by lendcore.urls."""

from django.urls import path

from .views import cob, loan_tape, portal, staff, staff_history

app_name = "servicing"

urlpatterns = [
    # staff
    path("staff/loan-tape/", loan_tape.LoanTapeView.as_view(), name="staff-loan-tape"),
    path("staff/loans/", staff.StaffLoanListView.as_view(), name="staff-loan-list"),
    path(
        "staff/loans/<id:loan_id>/", staff.StaffLoanDetailView.as_view(), name="staff-loan-detail"
    ),
    path(
        "staff/loans/<id:loan_id>/journal/",
        staff.StaffLoanJournalView.as_view(),
        name="staff-loan-journal",
    ),
    path(
        "staff/loans/<id:loan_id>/timeline/",
        staff.StaffLoanTimelineView.as_view(),
        name="staff-loan-timeline",
    ),
    path(
        "staff/loans/<id:loan_id>/payments/",
        staff.PaymentPostView.as_view(),
        name="staff-loan-payment",
    ),
    path(
        "staff/loans/<id:loan_id>/prepayment/",
        staff.PrepaymentView.as_view(),
        name="staff-loan-prepayment",
    ),
    path(
        "staff/loans/<id:loan_id>/reverse/",
        staff.PaymentReverseView.as_view(),
        name="staff-loan-reverse",
    ),
    path("staff/loans/<id:loan_id>/fees/", staff.FeeAssessView.as_view(), name="staff-loan-fee"),
    path("staff/loans/<id:loan_id>/waive/", staff.FeeWaiveView.as_view(), name="staff-loan-waive"),
    path(
        "staff/loans/<id:loan_id>/payoff-quote/",
        staff.PayoffQuoteView.as_view(),
        name="staff-loan-payoff",
    ),
    path(
        "staff/loans/<id:loan_id>/modify/",
        staff.ModificationView.as_view(),
        name="staff-loan-modify",
    ),
    path(
        "staff/loans/<id:loan_id>/charge-off/",
        staff.ChargeOffRequestView.as_view(),
        name="staff-loan-charge-off",
    ),
    path(
        "staff/loans/<id:loan_id>/charge-off/decide/",
        staff.ChargeOffDecideView.as_view(),
        name="staff-loan-charge-off-decide",
    ),
    path(
        "staff/loans/<id:loan_id>/charge-off/undo/",
        staff.ChargeOffUndoView.as_view(),
        name="staff-loan-charge-off-undo",
    ),
    path(
        "staff/loans/<id:loan_id>/modify/decide/",
        staff.ModificationDecideView.as_view(),
        name="staff-loan-modify-decide",
    ),
    path(
        "staff/loans/<id:loan_id>/refund/",
        staff.CreditRefundView.as_view(),
        name="staff-loan-refund",
    ),
    # delinquency, reminders and autopay: the whole lists, and autopay on the borrower's request
    path(
        "staff/loans/<id:loan_id>/delinquency/",
        staff_history.StaffLoanDelinquencyView.as_view(),
        name="staff-loan-delinquency",
    ),
    path(
        "staff/loans/<id:loan_id>/notices/",
        staff_history.StaffLoanNoticesView.as_view(),
        name="staff-loan-notices",
    ),
    path(
        "staff/loans/<id:loan_id>/autopay/debits/",
        staff_history.StaffLoanAutopayDebitsView.as_view(),
        name="staff-loan-autopay-debits",
    ),
    path(
        "staff/loans/<id:loan_id>/autopay/enrolments/",
        staff_history.StaffLoanAutopayEnrolmentsView.as_view(),
        name="staff-loan-autopay-enrolments",
    ),
    path(
        "staff/loans/<id:loan_id>/autopay/",
        staff_history.AutopayEnrolView.as_view(),
        name="staff-loan-autopay",
    ),
    path(
        "staff/loans/<id:loan_id>/autopay/cancel/",
        staff_history.AutopayCancelView.as_view(),
        name="staff-loan-autopay-cancel",
    ),
    path(
        "staff/statements/<id:statement_id>/download/",
        staff.StaffStatementDownloadView.as_view(),
        name="staff-statement-download",
    ),
    # close of business (admins)
    path("staff/cob/", cob.CobPageView.as_view(), name="staff-cob"),
    path("staff/cob/run/", cob.CobRunStartView.as_view(), name="staff-cob-run"),
    path("staff/cob/progress/", cob.CobProgressView.as_view(), name="staff-cob-progress"),
    # portal
    path("my-loans/", portal.PortalLoanListView.as_view(), name="portal-loan-list"),
    path(
        "my-loans/<id:loan_id>/", portal.PortalLoanDetailView.as_view(), name="portal-loan-detail"
    ),
    path("my-loans/<id:loan_id>/pay/", portal.PortalPaymentView.as_view(), name="portal-loan-pay"),
    path(
        "my-loans/<id:loan_id>/payments/<id:transfer_id>/cancel/",
        portal.PortalPaymentCancelView.as_view(),
        name="portal-payment-cancel",
    ),
    path(
        "my-loans/<id:loan_id>/autopay/",
        portal.PortalAutopayEnrolView.as_view(),
        name="portal-loan-autopay",
    ),
    path(
        "my-loans/<id:loan_id>/autopay/cancel/",
        portal.PortalAutopayCancelView.as_view(),
        name="portal-loan-autopay-cancel",
    ),
    path(
        "my-loans/<id:loan_id>/payoff-quote/",
        portal.PortalPayoffQuoteView.as_view(),
        name="portal-loan-payoff",
    ),
    path(
        "my-loans/statements/<id:statement_id>/download/",
        portal.PortalStatementDownloadView.as_view(),
        name="portal-statement-download",
    ),
]
