from django.urls import path

from collections_app.views import CollectionsQueueView
from lendcore.quotes import views as quote_views

from . import audit_views, reports_views, views

app_name = "web"

urlpatterns = [
    path("", views.PortalHomeView.as_view(), name="portal-home"),
    path("calculator/", quote_views.CalculatorView.as_view(), name="calculator"),
    path(
        "calculator/result/", quote_views.CalculatorResultView.as_view(), name="calculator-result"
    ),
    path("after-login/", views.AfterLoginView.as_view(), name="after-login"),
    path("staff/", views.StaffDashboardView.as_view(), name="staff-dashboard"),
    path(
        "staff/collections/",
        CollectionsQueueView.as_view(),  # the collections queue (collections_app)
        name="staff-collections",
    ),
    path("staff/reports/", reports_views.ReportsIndexView.as_view(), name="staff-reports"),
    path("staff/reports/<str:name>/", reports_views.ReportView.as_view(), name="staff-report"),
    path("staff/audit/", audit_views.AuditTrailView.as_view(), name="staff-audit"),
    path("staff/audit/export/", audit_views.AuditExportView.as_view(), name="staff-audit-export"),
]
